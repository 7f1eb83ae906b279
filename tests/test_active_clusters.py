"""Typical-cluster cold starts and cluster-margin batches."""

from __future__ import annotations

import numpy as np
import pytest

from labelwise.active.clusters import cluster_margin, pool_clusters, typical_clusters
from labelwise.errors import InputError, ParameterError


def blobs(seed=0):
    # four tight blobs of 50 plus 8 far outliers
    gen = np.random.default_rng(seed)
    centres = np.array([[0, 0], [10, 0], [0, 10], [10, 10]], dtype=float)
    X = np.concatenate([c + gen.normal(0, 0.5, (50, 2)) for c in centres])
    outliers = gen.uniform(-30, 40, (8, 2))
    return np.concatenate([X, outliers]), centres


def test_typical_clusters_covers_every_blob_with_central_items():
    X, centres = blobs()
    picked = typical_clusters(X[:200], 4, random_state=0)
    assert len(set(picked.tolist())) == 4
    blob = picked // 50
    assert sorted(blob.tolist()) == [0, 1, 2, 3]  # one per blob
    # typical = dense: each pick is near its blob's centre, not at the edge
    assert np.linalg.norm(X[picked] - centres[blob], axis=1).max() < 0.8


def test_typical_clusters_skips_outliers():
    X, _ = blobs(1)
    picked = typical_clusters(X, 4, k_neighbours=5, random_state=0)
    assert len(set(picked.tolist())) == 4
    assert (picked < 200).sum() >= 3


def test_cluster_margin_spreads_a_batch_over_clusters():
    clusters = np.repeat([0, 1, 2, 3], 25)
    # cluster 0 holds all the most uncertain items: top-k would take only cluster 0
    scores = np.where(clusters == 0, 0.9, 0.5) + np.linspace(0, 0.01, 100)
    batch = cluster_margin(scores, clusters, 4, oversample=25)
    assert sorted(clusters[batch].tolist()) == [0, 1, 2, 3]
    assert len(set(batch.tolist())) == 4
    within = cluster_margin(scores, clusters, 8, oversample=25)
    # the best candidate of each cluster comes first
    for c in range(4):
        members = within[clusters[within] == c]
        assert scores[members[0]] == scores[clusters == c].max()


def test_cluster_margin_and_pool_clusters_errors():
    with pytest.raises(InputError, match="one per item"):
        cluster_margin(np.ones(3), np.zeros(4), 1)
    with pytest.raises(ParameterError, match="'n' parameter"):
        cluster_margin(np.ones(3), np.zeros(3), 5)
    labels = pool_clusters(blobs()[0][:200], 4, random_state=0)
    assert labels.shape == (200,) and len(np.unique(labels)) == 4
