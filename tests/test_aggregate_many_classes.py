"""Many classes: votes and posteriors stay sparse in the number of classes, give the
same answers as the dense path, and the models that cannot be sparse refuse early."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from labelwise import Annotations
from labelwise.aggregate import (
    GLAD,
    MACE,
    DawidSkene,
    MajorityVote,
    OneCoinDawidSkene,
    WeightedMajorityVote,
    _sparse,
)
from labelwise.errors import ResourceError


def _many_class_crowd(n_items=400, n_classes=300, per_item=3, seed=0):
    """Items with one of many classes; annotators right with 0.55-0.95, else uniform."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, n_classes, n_items)
    n_workers = 40
    acc = rng.uniform(0.55, 0.95, n_workers)
    item = np.repeat(np.arange(n_items), per_item)
    worker = np.concatenate([rng.choice(n_workers, per_item, replace=False) for _ in truth])
    right = rng.random(item.size) < acc[worker]
    wrong = (truth[item] + rng.integers(1, n_classes, item.size)) % n_classes
    label = np.where(right, truth[item], wrong)
    ann = Annotations.from_codes(
        item, worker, label, n_items=n_items, n_workers=n_workers, n_classes=n_classes
    )
    return ann, truth


def _dense(model, proba):
    return proba.toarray() if sp.issparse(proba) else proba


@pytest.fixture
def force_sparse(monkeypatch):
    monkeypatch.setattr(_sparse, "DENSE_CELL_LIMIT", 0)


@pytest.mark.parametrize(
    "make",
    [
        lambda: MajorityVote(ties="flag"),
        lambda: WeightedMajorityVote(weights="log_odds", n_rounds=3, smoothing=1.0, ties="flag"),
    ],
)
def test_sparse_votes_equal_the_dense_votes(make, monkeypatch):
    ann, truth = _many_class_crowd()
    gold = {i: int(truth[i]) for i in range(0, 400, 37)}
    dense = make().fit(ann, gold=gold)
    monkeypatch.setattr(_sparse, "DENSE_CELL_LIMIT", 0)
    sparse = make().fit(ann, gold=gold)
    assert sp.issparse(sparse.proba_) and not sp.issparse(dense.proba_)
    assert sparse.proba_.nnz <= ann.n_annotations + len(gold)
    np.testing.assert_array_equal(sparse.label_codes_, dense.label_codes_)
    np.testing.assert_array_equal(sparse.tied_, dense.tied_)
    np.testing.assert_allclose(sparse.proba_.toarray(), dense.proba_, atol=1e-12)
    np.testing.assert_allclose(sparse.skill_, dense.skill_)
    frame = sparse.to_frame()
    np.testing.assert_allclose(frame["confidence"], dense.proba_.max(axis=1))


def test_sparse_random_tie_break_picks_among_the_top_classes(force_sparse):
    ann, _ = _many_class_crowd(per_item=2, seed=1)
    mv = MajorityVote(random_state=0).fit(ann)
    votes = mv.proba_.toarray()
    assert mv.tied_.sum() > 20
    chosen = votes[np.arange(ann.n_items), mv.label_codes_]
    np.testing.assert_allclose(chosen, votes.max(axis=1))
    # the draw is uniform among the tied classes, not always the lowest one
    tied = np.flatnonzero(mv.tied_)
    lowest = votes[tied].argmax(axis=1)
    assert (mv.label_codes_[tied] != lowest).mean() > 0.25


@pytest.mark.parametrize("make", [OneCoinDawidSkene, lambda: GLAD(max_iter=30), MACE])
def test_sparse_em_equals_the_dense_em(make, monkeypatch):
    ann, truth = _many_class_crowd()
    gold = {i: int(truth[i]) for i in range(0, 400, 50)}
    dense = make().fit(ann, gold=gold)
    monkeypatch.setattr(_sparse, "DENSE_CELL_LIMIT", 0)
    sparse = make().fit(ann, gold=gold)
    assert sp.issparse(sparse.proba_)
    assert sparse.n_iter_ == dense.n_iter_
    np.testing.assert_allclose(sparse.skill_, dense.skill_, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(sparse.prior_, dense.prior_, rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(sparse.log_likelihood_, dense.log_likelihood_, rtol=1e-9)
    # answered cells equal; the rest mass equals the dense posterior off those cells
    p = sparse.proba_.toarray()
    on = p > 0
    np.testing.assert_allclose(p[on], dense.proba_[on], rtol=1e-6, atol=1e-12)
    off = np.where(on, 0.0, dense.proba_).sum(axis=1)
    np.testing.assert_allclose(sparse.proba_rest_, off, rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(p.sum(axis=1) + sparse.proba_rest_, 1.0)
    np.testing.assert_array_equal(sparse.label_codes_, dense.label_codes_)
    assert (sparse.label_codes_ == truth).mean() > 0.9


def test_models_with_per_class_parameters_refuse_before_allocating(monkeypatch):
    ann, _ = _many_class_crowd(n_items=2000, n_classes=10_000, per_item=3)
    monkeypatch.setenv("LABELWISE_MAX_MEMORY", "2G")
    with pytest.raises(ResourceError, match=r"DawidSkene on 2,000 items x 10,000 classes .* GiB"):
        DawidSkene().fit(ann)
    mace = MACE().fit(ann)  # sparse: only its strategies are (n_workers, K)
    assert sp.issparse(mace.proba_) and not hasattr(mace, "confusion_")
    monkeypatch.setenv("LABELWISE_MAX_MEMORY", "1M")
    with pytest.raises(ResourceError, match=r"MACE .*40 spam strategies over 10,000 classes"):
        MACE().fit(ann)
    monkeypatch.setenv("LABELWISE_MAX_MEMORY", "lots")
    with pytest.raises(ResourceError, match="LABELWISE_MAX_MEMORY='lots' is not a size"):
        DawidSkene().fit(ann)


def test_ten_thousand_classes_stay_small():
    import tracemalloc

    ann, truth = _many_class_crowd(n_items=3000, n_classes=10_000, per_item=3, seed=2)
    assert _sparse.uses_sparse(ann)
    tracemalloc.start()
    try:
        mv = MajorityVote().fit(ann)
        one = OneCoinDawidSkene().fit(ann)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # dense would be 3,000 x 10,000 x 8 bytes = 240 MB per array
    assert peak < 20 * 2**20
    assert (mv.label_codes_ == truth).mean() > 0.7
    assert (one.label_codes_ == truth).mean() > (mv.label_codes_ == truth).mean()
    assert one.proba_.shape == (3000, 10_000) and one.proba_rest_.shape == (3000,)
    assert not hasattr(one, "confusion_")


def test_agreement_statistics_stay_sparse_in_the_classes():
    import tracemalloc

    from labelwise.agreement import fleiss_kappa, krippendorff_alpha

    ann, _ = _many_class_crowd(n_items=3000, n_classes=10_000, per_item=3, seed=3)
    tracemalloc.start()
    try:
        kappa, alpha = fleiss_kappa(ann), krippendorff_alpha(ann)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10 * 2**20  # the dense vote table alone was 240 MB, K x K 800 MB
    # nearly every disagreement is between two different rare classes: chance ~ 0
    assert 0.4 < kappa < 0.9 and alpha == pytest.approx(kappa, abs=0.01)


@pytest.mark.filterwarnings("ignore::UserWarning")  # tiny crowds: identifiability etc.
@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 7), st.integers(0, 5), st.integers(0, 9)),
        min_size=1,
        max_size=60,
        unique_by=lambda t: (t[0], t[1]),
    )
)
def test_sparse_and_dense_votes_agree_on_any_crowd(rows):
    item, worker, label = (np.array(c) for c in zip(*rows, strict=True))
    ann = Annotations.from_codes(item, worker, label, n_items=8, n_workers=6, n_classes=10)
    dense = MajorityVote(ties="flag").fit(ann)
    dense_one = OneCoinDawidSkene(max_iter=5).fit(ann)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_sparse, "DENSE_CELL_LIMIT", 0)
        sparse = MajorityVote(ties="flag").fit(ann)
        sparse_one = OneCoinDawidSkene(max_iter=5).fit(ann)
    np.testing.assert_array_equal(sparse.label_codes_, dense.label_codes_)
    # items without answers: an empty row and rest 1 where the dense vote is uniform
    spread = sparse.proba_.toarray() + sparse.proba_rest_[:, None] / 10
    np.testing.assert_allclose(spread, dense.proba_)
    full = sparse_one.proba_.toarray()
    np.testing.assert_allclose(full.sum(axis=1) + sparse_one.proba_rest_, 1.0)
    on = full > 0
    np.testing.assert_allclose(full[on], dense_one.proba_[on], rtol=1e-6, atol=1e-12)
