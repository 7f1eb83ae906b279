"""Batches that cover the embedding space: typical-cluster cold starts and cluster-margin.

- :func:`typical_clusters` (TypiClust, Hacohen et al., ICML 2022): with few labels, the
  most *typical* item of each of ``n`` k-means clusters (dense neighbourhoods, not
  outliers) teaches a model more than random or uncertain items.
- :func:`cluster_margin` (Citovsky et al., NeurIPS 2021): the most uncertain candidates,
  taken round-robin over clusters of the pool, smallest cluster first, so a batch of
  uncertain items does not pile up in one confused region.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labelwise._validation import check_features, check_number, check_random_state
from labelwise.errors import InputError

__all__ = ["cluster_margin", "pool_clusters", "typical_clusters"]

IntArray = NDArray[np.int64]


def _kmeans(E: NDArray[Any], k: int, seed: int) -> NDArray[np.int64]:
    from sklearn.cluster import KMeans

    km = KMeans(n_clusters=k, n_init=1, max_iter=100, random_state=seed).fit(E)
    return km.labels_.astype(np.int64)


def typical_clusters(
    embeddings: ArrayLike,
    n: int,
    *,
    k_neighbours: int = 20,
    max_sample: int = 20_000,
    random_state: Any = None,
) -> IntArray:
    """Cold start: the most typical row of each of ``n`` k-means clusters.

    Typicality is the inverse mean distance to the ``k_neighbours`` nearest rows of
    the same cluster (Hacohen et al. 2022). k-means runs on a random sample of at most
    ``max_sample`` rows. Returns ``n`` distinct positions into ``embeddings``.
    """
    E = np.asarray(check_features(embeddings, "embeddings"), dtype=np.float32)
    check_number(n, "n", "typical_clusters", kind=int, low=1, high=E.shape[0])
    check_number(k_neighbours, "k_neighbours", "typical_clusters", kind=int, low=1)
    rng = check_random_state(random_state)
    sample = np.arange(E.shape[0])
    if E.shape[0] > max_sample:
        sample = np.sort(rng.choice(E.shape[0], size=max_sample, replace=False))
    S = E[sample]
    if n == len(sample):
        return sample.astype(np.int64)
    labels = _kmeans(S, n, int(rng.integers(2**31 - 1)))
    chosen = []
    for c in range(n):
        members = np.flatnonzero(labels == c)
        if members.size == 0:
            continue
        if members.size <= 2:
            chosen.append(int(members[0]))
            continue
        M = S[members]
        sq = (M * M).sum(axis=1)
        d2 = np.maximum(sq[:, None] + sq[None, :] - 2.0 * (M @ M.T), 0.0)
        kk = min(k_neighbours, members.size - 1)
        near = np.partition(d2, kk, axis=1)[:, 1 : kk + 1]  # 0 is the row itself
        chosen.append(int(members[np.argmin(np.sqrt(near).mean(axis=1))]))
    out = sample[np.asarray(chosen, dtype=np.int64)]
    if out.size < n:  # empty clusters: fill with random rows
        rest = np.setdiff1d(np.arange(E.shape[0]), out)
        out = np.concatenate([out, rng.choice(rest, size=n - out.size, replace=False)])
    return out.astype(np.int64)


def pool_clusters(embeddings: ArrayLike, n_clusters: int, *, random_state: Any = None) -> IntArray:
    """k-means cluster of every pool row (computed once, reused by :func:`cluster_margin`)."""
    E = np.asarray(check_features(embeddings, "embeddings"), dtype=np.float32)
    check_number(n_clusters, "n_clusters", "pool_clusters", kind=int, low=1, high=E.shape[0])
    return _kmeans(E, n_clusters, int(check_random_state(random_state).integers(2**31 - 1)))


def cluster_margin(
    scores: ArrayLike, clusters: ArrayLike, n: int, *, oversample: int = 10
) -> IntArray:
    """A batch of ``n``: the ``oversample * n`` best-scored items, round-robin over clusters.

    Parameters
    ----------
    scores : array, shape (m,)
        Higher is more worth labeling (e.g. :func:`~labelwise.active.strategies.margin`).
    clusters : array of int, shape (m,)
        Each item's cluster (:func:`pool_clusters`).
    n : int
        Batch size.
    oversample : int
        Candidates per batch slot.

    Returns
    -------
    ndarray of int, shape (n,)
        Positions: clusters with the fewest candidates first, each giving its best
        remaining candidate per turn (Citovsky et al. 2021).
    """
    s = np.asarray(scores, dtype=np.float64)
    c = np.asarray(clusters)
    if s.ndim != 1 or c.shape != s.shape or not np.isfinite(s).all():
        raise InputError("scores must be finite, one per item, and clusters the same length.")
    check_number(n, "n", "cluster_margin", kind=int, low=1, high=s.shape[0])
    check_number(oversample, "oversample", "cluster_margin", kind=int, low=1)
    order = np.lexsort((np.arange(s.shape[0]), -s))
    cand = order[: min(s.shape[0], oversample * n)]
    groups: dict[Any, list[int]] = {}
    for i in cand:  # in decreasing score
        groups.setdefault(c[i], []).append(int(i))
    queues = sorted(groups.values(), key=len)
    out: list[int] = []
    depth = 0
    while len(out) < n:
        for q in queues:
            if depth < len(q):
                out.append(q[depth])
                if len(out) == n:
                    break
        depth += 1
    return np.asarray(out, dtype=np.int64)
