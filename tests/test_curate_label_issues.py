"""Label issues: confident learning, the default rule and the errors at the boundary."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelwise.curate import (
    class_thresholds,
    confident_joint,
    estimate_joint,
    find_label_issues,
    label_quality,
    noise_matrix,
    out_of_fold_proba,
)
from labelwise.curate.label_issues import FILTERS
from labelwise.errors import InputError, ParameterError


def _toy(n_per: int = 60, k: int = 3, flips: int = 6, seed: int = 0):
    """Confident, well-separated probabilities with ``flips`` labels changed."""
    rng = np.random.default_rng(seed)
    truth = np.repeat(np.arange(k), n_per)
    p = rng.dirichlet(np.ones(k) * 0.5, size=truth.size) * 0.15
    p[np.arange(truth.size), truth] += 0.85
    p /= p.sum(axis=1, keepdims=True)
    given = truth.copy()
    flipped = rng.choice(truth.size, flips, replace=False)
    given[flipped] = (truth[flipped] + 1) % k
    # the model is sure about the flipped items' true class (a clear error)
    p[flipped] = 0.01
    p[flipped, truth[flipped]] = 1 - 0.01 * (k - 1)
    return given, p, truth, flipped


def test_module_example():
    labels = np.array([0, 0, 0, 1, 1, 1])
    proba = np.array([[0.9, 0.1], [0.8, 0.2], [0.1, 0.9], [0.2, 0.8], [0.1, 0.9], [0.3, 0.7]])
    res = find_label_issues(labels, proba)
    assert res.is_issue.tolist() == [False, False, True, False, False, False]
    assert res.suggested[2] == 1
    assert res.ranking.tolist() == [2]


@pytest.mark.parametrize("filter_by", FILTERS)
def test_every_filter_finds_clear_flips(filter_by):
    given, p, truth, flipped = _toy()
    res = find_label_issues(given, p, filter_by=filter_by)
    found = set(np.flatnonzero(res.is_issue).tolist())
    if filter_by in ("class", "noise_rate"):  # prunings alone take the estimated counts
        assert found >= set(flipped.tolist())
        assert len(found) <= 2 * len(flipped)
    else:
        assert found == set(flipped.tolist())
    assert (res.suggested[flipped] == truth[flipped]).all()


def test_thresholds_and_joint_known_values():
    labels = np.array([0, 0, 1, 1])
    proba = np.array([[0.8, 0.2], [0.6, 0.4], [0.3, 0.7], [0.9, 0.1]])
    t = class_thresholds(labels, proba)
    assert t == pytest.approx([0.7, 0.4])
    raw = confident_joint(labels, proba, calibrate=False)
    # item 1 (p0=.6 < .7, p1=.4 >= .4) -> (0, 1); item 3 (p0=.9 >= .7) -> (1, 0)
    assert raw.tolist() == [[1, 1], [1, 1]]
    cj = confident_joint(labels, proba)
    assert cj.sum() == pytest.approx(4)
    assert estimate_joint(labels, proba).sum() == pytest.approx(1)
    nm = noise_matrix(labels, proba)
    assert nm.sum(axis=0) == pytest.approx([1, 1])


def test_noise_matrix_recovers_class_conditional_noise():
    truth = np.repeat(np.arange(3), 300)
    p = np.full((900, 3), 0.05)
    p[np.arange(900), truth] = 0.9
    rng = np.random.default_rng(1)
    flip = (truth == 0) & (rng.random(truth.size) < 0.2)
    given = np.where(flip, 1, truth)
    nm = noise_matrix(given, p)
    assert nm[1, 0] == pytest.approx(flip.sum() / 300)  # P(given 1 | true 0)
    assert nm[0, 1] == 0.0
    res = find_label_issues(given, p)
    assert res.n_estimated == flip.sum()
    assert (res.is_issue == flip).all()


def test_ranking_most_suspicious_first_and_quality_scores():
    labels = np.array([0, 0, 0, 1, 1, 1])
    proba = np.array([[0.9, 0.1], [0.05, 0.95], [0.3, 0.7], [0.2, 0.8], [0.1, 0.9], [0.2, 0.8]])
    sc = label_quality(labels, proba)
    nm = label_quality(labels, proba, method="normalized_margin")
    assert sc.tolist() == pytest.approx([0.9, 0.05, 0.3, 0.8, 0.9, 0.8])
    assert nm[1] == pytest.approx((0.05 - 0.95 + 1) / 2)
    res = find_label_issues(labels, proba, filter_by="argmax")
    assert res.ranking.tolist() == [1, 2]


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000))
def test_invariant_to_renaming_classes(seed):
    given_, p, _, _ = _toy(n_per=30, flips=5, seed=seed)
    perm = np.random.default_rng(seed).permutation(3)
    res = find_label_issues(given_, p)
    res2 = find_label_issues(perm[given_], p[:, np.argsort(perm)])
    assert (res.is_issue == res2.is_issue).all()
    assert (perm[res.suggested] == res2.suggested).all()


def test_out_of_fold_proba_rows_and_quality():
    from sklearn.datasets import make_classification

    X, y = make_classification(300, 6, n_informative=4, n_classes=3, random_state=0)
    p = out_of_fold_proba(X, y, n_splits=3)
    assert p.shape == (300, 3)
    assert p.sum(axis=1) == pytest.approx(np.ones(300))
    assert (p.argmax(axis=1) == y).mean() > 0.7


def test_errors_name_the_problem():
    labels = np.array([0, 1, 1])
    p = np.array([[0.5, 0.5], [0.2, 0.8], [0.1, 0.9]])
    with pytest.raises(InputError, match="Lengths differ: labels has 2, proba has 3"):
        find_label_issues(labels[:2], p)
    with pytest.raises(InputError, match="labels row 1 is 5, outside the 2 classes"):
        find_label_issues(np.array([0, 5, 1]), p)
    with pytest.raises(InputError, match="proba row 0 is not a probability distribution"):
        find_label_issues(labels, np.array([[0.5, 0.6], [0.2, 0.8], [0.1, 0.9]]))
    with pytest.raises(InputError, match="labels row 2 is nan"):
        find_label_issues(np.array([0, 1, np.nan]), p)
    with pytest.raises(ParameterError, match="'filter_by' parameter of find_label_issues"):
        find_label_issues(labels, p, filter_by="nope")  # type: ignore[arg-type]
    X = np.ones((4, 2))
    X[3, 1] = np.nan
    with pytest.raises(InputError, match="X has a non-finite value at row 3, column 1"):
        out_of_fold_proba(X, np.array([0, 0, 1, 1]))
