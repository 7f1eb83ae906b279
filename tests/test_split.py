"""Group splits: stability under added items, no cut groups, clear errors when impossible."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelwise.errors import ParameterError
from labelwise.split import SplitError, crossing_pairs, item_groups, split_dataset


def _data(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    ids = np.array([f"item-{seed}-{i}" for i in range(n)])
    labels = rng.choice(["cat", "dog", "bird"], n, p=[0.5, 0.3, 0.2])
    patients = np.array([f"p{k}" for k in rng.integers(0, n // 4, n)])
    return ids, labels, patients


@settings(max_examples=25, deadline=None)
@given(n_old=st.integers(20, 300), n_new=st.integers(1, 300), seed=st.integers(0, 5))
def test_adding_items_never_moves_existing_ones(n_old, n_new, seed):
    ids, labels, patients = _data(n_old + n_new, seed=7)
    old = split_dataset(
        ids[:n_old], labels[:n_old], groups=patients[:n_old], seed=seed, tolerance=1
    )
    new = split_dataset(ids, labels, groups=patients, seed=seed, tolerance=1)
    assert (new.split[:n_old] == old.split).all()


def test_adding_items_with_near_duplicate_pairs_keeps_existing_splits():
    ids, labels, _ = _data(400)
    pairs_old = np.array([[0, 1], [5, 9], [9, 30]])
    old = split_dataset(ids[:300], labels[:300], pairs=pairs_old)
    # new items, one of them a near copy of an old item: it joins that item's split
    pairs_new = np.r_[pairs_old, [[350, 5], [360, 370]]]
    new = split_dataset(ids, labels, pairs=pairs_new)
    assert (new.split[:300] == old.split).all()
    assert new.split[350] == new.split[5] == new.split[30]


def test_reordering_items_does_not_change_their_split():
    ids, labels, patients = _data(500)
    a = split_dataset(ids, labels, groups=patients, seed=3)
    perm = np.random.default_rng(0).permutation(500)
    b = split_dataset(ids[perm], labels[perm], groups=patients[perm], seed=3)
    assert (b.split == a.split[perm]).all()
    c = split_dataset(ids, labels, groups=patients, seed=4)
    assert (c.split != a.split).any()


@pytest.mark.parametrize("method", ["hash", "balanced"])
def test_no_group_and_no_near_duplicate_straddles_two_splits(method):
    ids, labels, patients = _data(2000)
    rng = np.random.default_rng(1)
    pairs = rng.integers(0, 2000, size=(150, 2))
    sp = split_dataset(ids, labels, groups=patients, pairs=pairs, method=method)
    assert crossing_pairs(pairs, sp.split) == 0
    per_patient = {}
    for p, s in zip(patients, sp.split, strict=True):
        per_patient.setdefault(p, set()).add(s)
    assert max(len(v) for v in per_patient.values()) == 1
    got = sp.achieved()
    assert np.abs(got - sp.target).max() < (0.04 if method == "hash" else 0.01)


def test_balanced_method_stratifies_each_class():
    ids, labels, patients = _data(3000)
    sp = split_dataset(ids, labels, groups=patients, method="balanced")
    summary = sp.summary()
    assert summary.loc[["bird", "cat", "dog"], "max class share gap"].max() < 0.02
    assert list(summary.columns[:3]) == ["train", "val", "test"]
    assert summary.loc["total"].iloc[:3].sum() == 3000
    sizes = sp.sizes()
    assert sizes["items"].sum() == 3000 and np.allclose(sizes["target"], [0.8, 0.1, 0.1])


def test_counts_leave_the_rest_in_train():
    ids, labels, _ = _data(1000)
    sp = split_dataset(ids, labels, counts={"val": 100, "test": 200}, method="balanced")
    sizes = {n: int((sp.split == n).sum()) for n in sp.names}
    assert sizes == {"val": 100, "test": 200, "train": 700}


def test_impossible_fractions_say_how_close_the_groups_allow():
    ids, labels, _ = _data(100)
    groups = np.where(np.arange(100) < 60, "big", [f"s{i}" for i in range(100)])
    with pytest.raises(
        SplitError, match=r"largest group \(g:big\) holds 60 of 100.*closest.*0\.600"
    ):
        split_dataset(ids, labels, groups=groups, fractions={"train": 0.5, "test": 0.5})
    # the same request with enough slack is accepted
    sp = split_dataset(
        ids, labels, groups=groups, fractions={"train": 0.5, "test": 0.5}, tolerance=0.15
    )
    assert len(set(sp.split[:60])) == 1


def test_groups_join_user_column_and_pairs():
    g = item_groups(
        ["a", "b", "c", "d", "e"], groups=["p1", None, "p2", "p1", None], pairs=[[1, 2]]
    )
    assert g.group[0] == g.group[3]
    assert g.group[1] == g.group[2]
    assert g.group[4] not in (g.group[0], g.group[1])
    assert sorted(g.key) == ["g:p1", "g:p2", "i:e"]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"fractions": {"train": 0.5, "test": 0.4}}, ParameterError, "add up to 1"),
        ({"fractions": {"train": 0.5}, "counts": {"test": 3}}, ParameterError, "not both"),
        ({"counts": {"test": 300}}, SplitError, "only 100"),
        ({"method": "random"}, ParameterError, "method"),
    ],
)
def test_bad_requests(kwargs, error, match):
    ids, labels, _ = _data(100)
    with pytest.raises(error, match=match):
        split_dataset(ids, labels, **kwargs)


def test_bad_items():
    with pytest.raises(ValueError, match="appears twice"):
        split_dataset(["a", "a", "b"], [1, 2, 3])
    with pytest.raises(ValueError, match="row 1"):
        split_dataset(["a", "b", "c"], [1, None, 3])


def test_previous_assignment_keeps_old_items_and_balances_the_new():
    ids, labels, patients = _data(1200, seed=2)
    old = split_dataset(ids[:800], labels[:800], groups=patients[:800], method="balanced")
    previous = dict(zip(old.ids, old.split, strict=True))
    new = split_dataset(ids, labels, groups=patients, method="balanced", previous=previous)
    assert (new.split[:800] == old.split).all()
    assert np.abs(new.achieved() - new.target).max() < 0.02
    # a new near-duplicate pair joining a train item and a test item is refused, named
    a = int(np.flatnonzero(old.split == "train")[0])
    b = int(np.flatnonzero(old.split == "test")[0])
    with pytest.raises(SplitError, match=rf"{ids[b]}.*already sit in different splits"):
        split_dataset(ids, labels, pairs=[[a, b]], method="balanced", previous=previous)
