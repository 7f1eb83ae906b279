"""Selection over a partitioned pool on Dask gives the in-memory selection."""

from __future__ import annotations

import itertools
import logging

import numpy as np
import pytest

pytest.importorskip("distributed")

from dask.distributed import Client, LocalCluster
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from labelwise.active import badge, cluster_top, coreset, top_k
from labelwise.active.strategies import entropy, margin
from labelwise.distributed import ShardedPool, select_from_pool
from labelwise.errors import InputError, ParameterError

CUTS = [0, 1500, 1501, 4000, 9000, 12_345, 16_000, 20_000]  # uneven, one of a single row


@pytest.fixture(scope="module")
def client():
    logging.getLogger("distributed").setLevel(logging.ERROR)
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0")
        as cluster,
        Client(cluster) as c,
    ):  # fmt: skip
        yield c


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        n_samples=20_000, n_features=16, n_informative=8, n_classes=4, random_state=0
    )
    X = X.astype(np.float32)
    X[10_000:10_050] = X[100:150]  # exact copies across partitions: tied scores
    model = LogisticRegression(max_iter=500).fit(X[:300], y[:300])
    return X, model


@pytest.fixture(scope="module")
def shard_dir(tmp_path_factory, data):
    X, _ = data
    root = tmp_path_factory.mktemp("pool")
    for i, (a, b) in enumerate(itertools.pairwise(CUTS)):
        np.save(root / f"part-{i:03d}.npy", X[a:b])
    return root


def _parts(X):
    return (X[a:b] for a, b in itertools.pairwise(CUTS))


def _load(path_and_index):
    return np.load(path_and_index)


@pytest.mark.parametrize("use_client", [False, True])
def test_sharded_selection_equals_the_in_memory_cluster_top(client, data, shard_dir, use_client):
    X, model = data
    scores = margin(model.predict_proba(X))
    expected = cluster_top(X, scores, 20, oversample=10, random_state=3)
    pool = ShardedPool.from_directory(shard_dir)
    assert (pool.n_rows, pool.n_partitions, pool.n_features) == (20_000, 7, 16)
    got = select_from_pool(
        model, pool, 20, client=client if use_client else None, chunk_rows=999, random_state=3
    )
    np.testing.assert_array_equal(got.ids, expected)
    np.testing.assert_allclose(got.scores, scores[expected])
    np.testing.assert_array_equal(got.candidate_ids, top_k(scores, 200))
    assert got.n_scored == 20_000 and got.n_partitions == 7 and got.peak_rss_mb > 0


def test_plain_top_k_with_ties_across_partitions(client, data, shard_dir):
    X, model = data
    scores = entropy(model.predict_proba(X))
    # rows 100..149 and their copies 10,000..10,049 tie; take enough to cut inside ties
    n = int((scores >= np.sort(scores)[-60]).sum()) + 7
    got = select_from_pool(
        model, ShardedPool.from_directory(shard_dir), n, strategy="entropy", diversity=None,
        client=client,
    )  # fmt: skip
    np.testing.assert_array_equal(got.ids, top_k(scores, n))


def test_generator_of_partitions_and_worker_made_partitions(client, data, shard_dir):
    X, model = data
    ref = select_from_pool(model, X, 15, random_state=1).ids
    for c in (None, client):
        got = select_from_pool(model, _parts(X), 15, client=c, random_state=1)
        assert np.array_equal(got.ids, ref)
    files = sorted(str(p) for p in shard_dir.glob("*.npy"))
    made = ShardedPool.from_function(
        lambda i: np.load(files[i]), [b - a for a, b in itertools.pairwise(CUTS)], 16
    )
    assert np.array_equal(select_from_pool(model, made, 15, client=client, random_state=1).ids, ref)


@pytest.mark.parametrize("diversity", ["coreset", "badge", "weighted_kmeans_pp"])
def test_other_diversity_strategies_use_the_merged_candidates(client, data, shard_dir, diversity):
    X, model = data
    proba = model.predict_proba(X)
    cand = top_k(margin(proba), 80)
    expected = {
        "coreset": lambda: coreset(X[cand], 8, random_state=0),
        "badge": lambda: badge(proba[cand], X[cand], 8, random_state=0),
        "weighted_kmeans_pp": None,
    }[diversity]
    got = select_from_pool(
        model, ShardedPool.from_directory(shard_dir), 8, diversity=diversity, client=client,
        random_state=0,
    )  # fmt: skip
    assert set(got.candidate_ids) == set(cand) and len(set(got.ids)) == 8
    assert set(got.ids) <= set(cand)
    if expected is not None:
        np.testing.assert_array_equal(got.ids, cand[expected()])


def test_coreset_starts_from_the_labeled_rows(data):
    X, model = data
    cand = top_k(margin(model.predict_proba(X)), 60)
    got = select_from_pool(
        model, X, 6, diversity="coreset", labeled_features=X[:300], random_state=0
    )
    np.testing.assert_array_equal(got.ids, cand[coreset(X[cand], 6, labeled=X[:300])])


def test_excluded_rows_are_never_chosen(client, data, shard_dir):
    X, model = data
    scores = margin(model.predict_proba(X))
    labeled = top_k(scores, 30)  # the most informative rows are already labeled
    got = select_from_pool(
        model, ShardedPool.from_directory(shard_dir), 10, diversity=None, exclude=labeled,
        client=client,
    )  # fmt: skip
    rest = np.setdiff1d(np.arange(len(X)), labeled)
    np.testing.assert_array_equal(got.ids, rest[top_k(scores[rest], 10)])
    assert got.n_scored == len(X) - 30


def test_bad_pools_and_parameters_are_named(tmp_path, data):
    X, model = data
    with pytest.raises(InputError, match="does not exist"):
        ShardedPool.from_directory(tmp_path / "missing")
    with pytest.raises(InputError, match="holds no files"):
        ShardedPool.from_directory(tmp_path)
    np.save(tmp_path / "a.npy", X[:10])
    np.save(tmp_path / "b.npy", X[:10, :3])
    with pytest.raises(InputError, match="differ in their number of features"):
        ShardedPool.from_directory(tmp_path)
    np.save(tmp_path / "b.npy", np.arange(5.0))
    with pytest.raises(InputError, match=r"b.npy must be a 2-D C-ordered float array"):
        ShardedPool.from_directory(tmp_path)
    (tmp_path / "b.npy").write_text("not an array")
    with pytest.raises(InputError, match="b.npy is not a .npy array file"):
        ShardedPool.from_directory(tmp_path)
    with pytest.raises(InputError, match="batch of 30 is larger than the 20 unlabeled"):
        select_from_pool(model, X[:20], 30)
    with pytest.raises(InputError, match="batch of 30 is larger than the 20 unlabeled"):
        select_from_pool(model, iter([X[:12], X[12:20]]), 30)
    with pytest.raises(InputError, match="exclude holds row 20, outside the pool of 20"):
        select_from_pool(model, X[:20], 3, exclude=[20])
    with pytest.raises(InputError, match=r"partition 1 has shape \(4, 3\)"):
        select_from_pool(model, iter([X[:12], X[:4, :3]]), 3)
    with pytest.raises(ParameterError, match="Unknown score 'nope'"):
        select_from_pool(model, X, 3, strategy="nope")
    with pytest.raises(ParameterError, match="'diversity' parameter of select_from_pool"):
        select_from_pool(model, X, 3, diversity="kcenter")
    with pytest.raises(InputError, match="needs a fitted model with predict_proba"):
        select_from_pool(object(), X, 3)
