"""Simulated crowds: annotator kinds, mixed pools, fitted pools, the toy test bed."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelwise.errors import InputError, ParameterError
from labelwise.simulate import (
    KINDS,
    AnnotatorPool,
    asymmetric_confusion,
    confusion_from_accuracy,
    fitted_confusions,
    make_pool,
    make_toy_testbed,
    pool_from_annotations,
    simulate_annotations,
)


def _pool(confs, rates=None):
    w = len(confs)
    r = np.full(w, 1.0 / w) if rates is None else np.asarray(rates, float) / np.sum(rates)
    return AnnotatorPool(np.stack(confs), np.array(["x"] * w, dtype=object), r, np.ones(w))


def test_asymmetric_confusion_is_a_distribution_with_uneven_errors():
    c = asymmetric_confusion(4, 0.8, concentration=0.3, random_state=0)
    assert np.allclose(c.sum(axis=1), 1)
    assert np.allclose(np.diag(c), 0.8)
    assert not np.allclose(c, c.T)  # cat->dog is not dog->cat


@given(n=st.integers(1, 60), seed=st.integers(0, 10))
@settings(max_examples=25, deadline=None)
def test_make_pool_mixes_kinds_in_proportion(n, seed):
    pool = make_pool(n, 4, proportions={"reliable": 0.5, "spammer": 0.3, "adversary": 0.2},
                     random_state=seed)  # fmt: skip
    counts = {k: int((pool.kinds == k).sum()) for k in ("reliable", "spammer", "adversary")}
    assert sum(counts.values()) == n
    for kind, share in (("reliable", 0.5), ("spammer", 0.3), ("adversary", 0.2)):
        assert abs(counts[kind] - share * n) < 1  # largest remainder rounding
    assert np.allclose(pool.confusions.sum(axis=2), 1)
    assert np.isclose(pool.rates.sum(), 1)


def test_make_pool_kinds_behave_as_named():
    shares = dict.fromkeys(KINDS, 1.0)
    pool = make_pool(60, 5, proportions=shares, random_state=1)
    acc = pool.accuracy()
    assert np.allclose(acc[pool.kinds == "spammer"], 0.2)
    assert np.allclose(acc[pool.kinds == "constant"], 0.2)
    assert (acc[pool.kinds == "adversary"] < 0.1).all()
    assert (acc[pool.kinds == "reliable"] >= 0.7).all()
    const = pool.confusions[pool.kinds == "constant"]
    assert ((const == 1).sum(axis=(1, 2)) == 5).all()  # one column of ones
    # same seed, same pool
    again = make_pool(60, 5, proportions=shares, random_state=1)
    assert np.array_equal(pool.confusions, again.confusions)
    assert np.array_equal(pool.kinds, again.kinds)


def test_answers_and_arrivals_follow_the_pool():
    conf = confusion_from_accuracy(0.8, 3)
    pool = _pool([conf, np.eye(3)], rates=[3, 1])
    arr = pool.arrivals(20000, random_state=0)
    assert abs((arr == 0).mean() - 0.75) < 0.02
    y = np.repeat(np.arange(3), 4000)
    ans = pool.answer(np.zeros(y.size, int), y, random_state=0)
    emp = np.stack([np.bincount(ans[y == k], minlength=3) / 4000 for k in range(3)])
    assert np.abs(emp - conf).max() < 0.03
    assert np.array_equal(pool.answer(np.ones(y.size, int), y, random_state=0), y)


def test_pool_from_annotations_recovers_the_crowd():
    rng = np.random.default_rng(0)
    good, bad = confusion_from_accuracy(0.9, 3), confusion_from_accuracy(0.5, 3)
    confs = np.stack([good] * 6 + [bad] * 4)
    y = rng.integers(0, 3, 1500)
    ann = simulate_annotations(y, confs, per_item=4, random_state=0)
    est, n_answers, prior = fitted_confusions(ann, y)
    assert np.abs(est[:6] - good).max() < 0.06
    assert np.abs(est[6:] - bad).max() < 0.08
    assert n_answers.sum() == ann.n_annotations
    assert np.allclose(prior, np.bincount(y) / y.size, atol=0.02)
    pool = pool_from_annotations(ann, 200, truth=y, random_state=0)
    assert pool.n_workers == 200 and pool.n_classes == 3
    assert all(str(k).startswith("fitted:") for k in pool.kinds)
    acc = pool.accuracy()
    assert 0.3 < (acc < 0.7).mean() < 0.5  # about 4 in 10 copy a bad annotator
    exact = pool_from_annotations(ann, 50, truth=y, jitter=np.inf, random_state=0)
    assert np.isin(exact.accuracy().round(6), est.diagonal(axis1=1, axis2=2).mean(1).round(6)).all()


def test_toy_testbed():
    bed = make_toy_testbed(500, 20, random_state=0)
    assert bed.X is not None and bed.X.shape == (500, 2)
    assert set(np.unique(bed.truth)) == set(range(5))
    assert (bed.pool.kinds == "spammer").sum() == 2
    skilled = bed.pool.confusions[bed.pool.kinds == "skilled"]
    # mistakes go mostly to the two neighbouring classes on the circle, unevenly
    assert (skilled[:, 0, [1, 4]].sum(axis=1) > 4 * skilled[:, 0, [2, 3]].sum(axis=1)).all()
    assert not np.allclose(skilled[:, 0, 1], skilled[:, 0, 4])


def test_pool_validation_errors():
    with pytest.raises(InputError, match="shape"):
        _pool([np.ones((2, 3)) / 3])
    with pytest.raises(InputError, match=r"confusions\[1\]"):
        _pool([np.eye(2), np.full((2, 2), 0.7)])
    with pytest.raises(InputError, match="kinds must have one entry"):
        AnnotatorPool(np.stack([np.eye(2)]), np.array(["a", "b"]), np.ones(1), np.ones(1))
    with pytest.raises(InputError, match="rates"):
        AnnotatorPool(np.stack([np.eye(2)]), np.array(["a"]), np.zeros(1), np.ones(1))
    with pytest.raises(InputError, match="costs"):
        AnnotatorPool(np.stack([np.eye(2)]), np.array(["a"]), np.ones(1), -np.ones(1))
    with pytest.raises(ParameterError, match="Unknown annotator kind 'genius'"):
        make_pool(5, 3, proportions={"genius": 1.0})
    with pytest.raises(ParameterError, match="proportions"):
        make_pool(5, 3, proportions={"reliable": 0.0})
    with pytest.raises(ParameterError, match="'accuracy' parameter of make_pool"):
        make_pool(5, 3, accuracy=(0.9, 0.5))
    with pytest.raises(ParameterError, match="'n_workers' parameter of make_pool"):
        make_pool(0, 3)
    with pytest.raises(ParameterError, match="'accuracy' parameter of asymmetric_confusion"):
        asymmetric_confusion(3, 1.5)
    ann = simulate_annotations([0, 1, 2], np.stack([np.eye(3)] * 2), per_item=2, random_state=0)
    with pytest.raises(InputError, match="truth must have one code per item"):
        pool_from_annotations(ann, 5, truth=[0, 1])
    with pytest.raises(ParameterError, match="'jitter' parameter"):
        pool_from_annotations(ann, 5, jitter=0.0)
    with pytest.raises(ParameterError, match="'spread' parameter of make_toy_testbed"):
        make_toy_testbed(10, 5, spread=0)
