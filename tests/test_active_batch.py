"""Batch selection: top-k, class balance and the diversity methods."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelwise.active.batch import class_balanced_top_k, top_k
from labelwise.active.diversity import badge, cluster_top, coreset, kmeans_seed, weighted_kmeans_pp
from labelwise.errors import InputError, ParameterError


def test_top_k_order_and_ties_to_lower_position() -> None:
    s = np.array([0.1, 0.9, 0.5, 0.9, 0.2])
    assert top_k(s, 3).tolist() == [1, 3, 2]
    assert top_k(np.ones(4), 2).tolist() == [0, 1]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=60), st.data())
def test_top_k_matches_a_full_sort(scores: list[float], data: st.DataObject) -> None:
    n = data.draw(st.integers(1, len(scores)))
    s = np.asarray(scores)
    got = top_k(s, n)
    assert len(np.unique(got)) == n
    assert got.tolist() == np.lexsort((np.arange(len(s)), -s))[:n].tolist()


def test_top_k_errors() -> None:
    with pytest.raises(InputError, match="a batch of 5 is larger than the 3 items"):
        top_k([0.1, 0.2, 0.3], 5)
    with pytest.raises(ParameterError, match="'n' parameter of top_k"):
        top_k([0.1], 0)
    with pytest.raises(InputError, match="NaN at position 1"):
        top_k([0.1, np.nan], 1)


def test_class_balanced_takes_turns_between_classes() -> None:
    s = np.array([0.9, 0.8, 0.7, 0.6, 0.1, 0.05])
    pred = np.array([0, 0, 0, 0, 1, 2])
    # plain top-4 would be all class 0; balanced takes the best of each class first
    got = class_balanced_top_k(s, pred, 4)
    assert got.tolist() == [0, 4, 5, 1]
    with pytest.raises(InputError, match="predicted has shape"):
        class_balanced_top_k(s, pred[:3], 2)


def _blobs(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = np.array([[0, 0], [10, 0], [0, 10], [10, 10]], dtype=float)
    return np.vstack([c + 0.1 * rng.normal(size=(25, 2)) for c in centres])


def test_coreset_covers_every_blob() -> None:
    X = _blobs()
    got = coreset(X, 4, labeled=X[:1], random_state=0)  # blob 0 already labeled
    assert len(set(got.tolist())) == 4
    assert sorted({int(i) // 25 for i in got[:3]}) == [1, 2, 3]


def test_badge_and_kmeanspp_spread_over_blobs_and_repeat_with_seed() -> None:
    X = _blobs()
    proba = np.full((100, 2), 0.5)
    for fn in (
        lambda r: badge(proba, X, 4, random_state=r),
        lambda r: weighted_kmeans_pp(X, np.ones(100), 4, random_state=r),
    ):
        a, b = fn(7), fn(7)
        assert a.tolist() == b.tolist()
        assert len(set(a.tolist())) == 4
        assert len({int(i) // 25 for i in a}) >= 3


def test_cluster_top_diverse_vs_plain_top_k() -> None:
    X = _blobs()
    s = np.zeros(100)
    s[:25] = 1.0 + np.linspace(0, 0.1, 25)  # blob 0 scores highest
    s[25:] = np.linspace(0.5, 0.6, 75)
    plain = top_k(s, 4)
    diverse = cluster_top(X, s, 4, oversample=25, random_state=0)
    assert {int(i) // 25 for i in plain} == {0}
    assert len({int(i) // 25 for i in diverse}) == 4
    assert len(set(diverse.tolist())) == 4


def test_kmeans_seed_one_per_blob() -> None:
    got = kmeans_seed(_blobs(), 4, random_state=0)
    assert sorted(int(i) // 25 for i in got) == [0, 1, 2, 3]
    with pytest.raises(InputError, match="a batch of 200 is larger than the 100"):
        kmeans_seed(_blobs(), 200)
