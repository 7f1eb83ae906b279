"""The sharded IVF index: recall against the exact flat index, and SEALS / audit on it."""

from __future__ import annotations

import numpy as np
import pytest

from labelwise.active.seals import SEALS
from labelwise.curate import find_outliers, near_duplicates, nearest_neighbors
from labelwise.distributed import ShardedIndex, ShardedPool
from labelwise.errors import InputError, ParameterError
from labelwise.index import NeighborIndex


@pytest.fixture(scope="module")
def clustered():
    """30 Gaussian clusters in 32 dimensions (embeddings have structure; IVF relies on it)."""
    rng = np.random.default_rng(0)
    centers = rng.normal(size=(30, 32)) * 3
    y = rng.integers(0, 30, 12_000)
    return (centers[y] + rng.normal(size=(12_000, 32))).astype(np.float32)


def _recall(got, exact):
    return np.mean([len(set(a) & set(b)) / len(b) for a, b in zip(got, exact, strict=True)])


@pytest.mark.parametrize("metric", ["cosine", "l2"])
def test_probing_every_list_is_the_exact_search(clustered, metric):
    X, Q = clustered, clustered[::97]
    flat_d, flat_i = NeighborIndex(metric=metric, kind="flat").fit(X).search(Q, 10)
    idx = ShardedIndex(metric=metric, n_shards=5, nlist=32, nprobe=32).fit(X)
    d, i = idx.search(Q, 10)
    assert _recall(i, flat_i) == 1.0
    np.testing.assert_allclose(d, flat_d, atol=1e-4)
    assert (idx.kind_, idx.nlist_, idx.nprobe_, idx.n_, idx.dim_) == ("sharded", 32, 32, 12_000, 32)


def test_recall_of_a_partial_probe_and_self_exclusion(clustered):
    X = clustered
    rows = np.arange(0, len(X), 41)
    exact = NeighborIndex(kind="flat").fit(X).neighbors_of_indexed(rows, 10)[1]
    idx = ShardedIndex(n_shards=4, nlist=64, nprobe=8, sample_size=5_000).fit(X)
    got = idx.neighbors_of_indexed(rows, 10)[1]
    assert not (got == rows[:, None]).any()
    assert _recall(got, exact) >= 0.95


def test_a_sharded_pool_on_disk_gives_the_in_memory_index(tmp_path, clustered):
    X = clustered
    for s, (a, b) in enumerate([(0, 5000), (5000, 5001), (5001, 12_000)]):
        np.save(tmp_path / f"p{s}.npy", X[a:b])
    pool = ShardedPool.from_directory(tmp_path)
    on_disk = ShardedIndex(nlist=40, nprobe=6, directory=tmp_path / "index").fit(pool)
    assert len(list((tmp_path / "index").glob("shard-*.faiss"))) == 3
    in_memory = ShardedIndex(nlist=40, nprobe=6).fit(X)
    Q = X[::113]
    d1, i1 = on_disk.search(Q, 5)
    d2, _ = in_memory.search(Q, 5)
    exact = NeighborIndex(kind="flat").fit(X).search(Q, 5)[1]
    assert _recall(i1, exact) >= 0.95
    np.testing.assert_allclose(d1[:, 0], d2[:, 0], atol=1e-4)
    np.testing.assert_array_equal(i1[:, 0], np.arange(0, len(X), 113))  # each row finds itself


def test_seals_candidates_on_a_sharded_index(clustered):
    X = clustered
    labeled = np.arange(0, 12_000, 600)
    flat = SEALS(k=20, kind="flat").fit(X, labeled=labeled).candidates_
    sharded = SEALS(k=20, kind="sharded").fit(X, labeled=labeled)
    assert isinstance(sharded.index_, ShardedIndex)
    assert len(set(sharded.candidates_) & set(flat)) / len(flat) >= 0.95


def test_outliers_and_near_duplicates_through_a_sharded_index(clustered):
    rng = np.random.default_rng(1)
    X = clustered.copy()
    far = np.arange(0, 12_000, 1_000)
    X[far] = rng.normal(size=(len(far), 32)).astype(np.float32) * 25  # planted outliers
    copies = np.arange(5, 12_000, 1_500)
    X[copies + 1] = X[copies] + rng.normal(size=(len(copies), 32)).astype(np.float32) * 1e-3
    idx = ShardedIndex(nlist=48, nprobe=8).fit(X)
    nb = nearest_neighbors(X, 10, index=idx)
    exact = nearest_neighbors(X, 10, exact=True)
    flagged = set(np.flatnonzero(find_outliers(neighbors=nb).is_outlier))
    assert set(far) <= flagged
    assert flagged == set(np.flatnonzero(find_outliers(neighbors=exact).is_outlier))
    pairs = near_duplicates(X, index=idx).pairs
    found = {tuple(sorted(map(int, p))) for p in pairs}
    assert {(int(c), int(c) + 1) for c in copies} <= found
    with pytest.raises(InputError, match="index was fitted on 12000 rows; X has 100"):
        nearest_neighbors(X[:100], 5, index=idx)
    with pytest.raises(InputError, match="cosine index fitted on the 100 rows"):
        near_duplicates(X[:100], index=idx)


def test_bad_parameters_are_named(clustered):
    with pytest.raises(ParameterError, match="'n_shards' parameter of ShardedIndex"):
        ShardedIndex(n_shards=0).fit(clustered)
    with pytest.raises(ParameterError, match="'metric' parameter of ShardedIndex"):
        ShardedIndex(metric="dot").fit(clustered)  # type: ignore[arg-type]
    assert ShardedIndex(n_shards=3).get_params()["n_shards"] == 3
