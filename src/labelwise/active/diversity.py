"""Diversity-aware selection over embeddings: core-set, BADGE and clustered top candidates.

These choose a *batch* directly (a score alone cannot say that two items are
near-copies). Each returns positions into the rows it was given, in the order chosen.

- :func:`coreset` — greedy k-center (Sener & Savarese 2018): repeatedly take the
  item farthest from everything labeled or already chosen.
- :func:`badge` — k-means++ seeding on gradient embeddings (Ash et al. 2020). The
  embedding of item i is ``(p_i - onehot(yhat_i)) ⊗ x_i`` (the last-layer gradient of
  the cross-entropy at the predicted label); it is never formed: squared distances use
  ``<a_i ⊗ x_i, a_j ⊗ x_j> = <a_i, a_j> <x_i, x_j>``, so each step costs O(n (K + d)).
- :func:`weighted_kmeans_pp` — k-means++ seeding where each item's draw weight is its
  score times its squared distance to the chosen set (score-weighted diversity).
- :func:`cluster_top` — cluster the ``oversample * n`` highest-scoring items into ``n``
  groups (k-means weighted by score) and take the best item of each (Zhdanov 2019).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labelwise._validation import check_features, check_number, check_proba, check_random_state
from labelwise.errors import InputError

__all__ = ["badge", "cluster_top", "coreset", "kmeans_seed", "weighted_kmeans_pp"]

IntArray = NDArray[np.int64]


def _check_n(n: int, size: int, owner: str) -> None:
    check_number(n, "n", owner, kind=int, low=1)
    if n > size:
        raise InputError(f"{owner}: a batch of {n} is larger than the {size} items offered.")


def _sq_dist(E: NDArray[np.float64], c: NDArray[np.float64], sq: NDArray[np.float64]) -> Any:
    return np.maximum(sq + c @ c - 2.0 * (E @ c), 0.0)


def coreset(
    embeddings: ArrayLike, n: int, *, labeled: ArrayLike | None = None, random_state: Any = None
) -> IntArray:
    """Greedy k-center: ``n`` positions of ``embeddings`` (m, d), each farthest from the rest.

    ``labeled`` (l, d) are the embeddings already labeled (the initial centres); without
    them the first pick is random. Cost O(m (l + n) d) with l chunked.
    """
    E = np.asarray(check_features(embeddings, "embeddings"), dtype=np.float64)
    _check_n(n, E.shape[0], "coreset")
    rng = check_random_state(random_state)
    sq = (E * E).sum(axis=1)
    mind = np.full(E.shape[0], np.inf)
    if labeled is not None and len(np.asarray(labeled)):
        L = np.asarray(check_features(labeled, "labeled"), dtype=np.float64)
        if L.shape[1] != E.shape[1]:
            raise InputError(f"labeled has {L.shape[1]} features; embeddings has {E.shape[1]}.")
        for start in range(0, L.shape[0], 256):  # chunk: m x 256 distances at a time
            block = L[start : start + 256]
            d2 = sq[:, None] + (block * block).sum(axis=1)[None, :] - 2.0 * (E @ block.T)
            mind = np.minimum(mind, d2.min(axis=1))
    chosen: list[int] = []
    for _ in range(n):
        i = int(rng.integers(E.shape[0])) if not np.isfinite(mind).any() else int(mind.argmax())
        chosen.append(i)
        mind = np.minimum(mind, _sq_dist(E, E[i], sq))
        mind[i] = -1.0  # never again
    return np.asarray(chosen, dtype=np.int64)


def _kmeans_pp(
    dist_to: Any, m: int, n: int, weights: NDArray[np.float64], first: int, rng: Any
) -> IntArray:
    """k-means++ seeding; ``dist_to(i)`` gives squared distances of all rows to row i."""
    chosen = [first]
    d2 = dist_to(first)
    d2[first] = 0.0
    for _ in range(n - 1):
        w = weights * d2
        total = w.sum()
        if total <= 0:  # every remaining row coincides with a chosen one: fall back to weight
            w = weights * (d2 >= 0)
            w[chosen] = 0.0
            total = w.sum()
            if total <= 0:
                w = np.ones(m)
                w[chosen] = 0.0
                total = w.sum()
        i = int(rng.choice(m, p=w / total))
        chosen.append(i)
        d2 = np.minimum(d2, dist_to(i))
        d2[chosen] = 0.0
    return np.asarray(chosen, dtype=np.int64)


def weighted_kmeans_pp(
    embeddings: ArrayLike, scores: ArrayLike, n: int, *, random_state: Any = None
) -> IntArray:
    """``n`` positions drawn by k-means++ with draw weight ``score * D^2`` (score-weighted).

    The first pick is the highest score; later picks favour items that are both
    informative and far from those already chosen.
    """
    E = np.asarray(check_features(embeddings, "embeddings"), dtype=np.float64)
    s = np.asarray(scores, dtype=np.float64)
    if s.shape != (E.shape[0],) or (s < 0).any() or not np.isfinite(s).all():
        raise InputError("scores must be finite, non-negative and one per embedding row.")
    _check_n(n, E.shape[0], "weighted_kmeans_pp")
    sq = (E * E).sum(axis=1)
    rng = check_random_state(random_state)
    return _kmeans_pp(lambda i: _sq_dist(E, E[i], sq), E.shape[0], n, s, int(s.argmax()), rng)


def badge(proba: ArrayLike, embeddings: ArrayLike, n: int, *, random_state: Any = None) -> IntArray:
    """BADGE (Ash et al. 2020): k-means++ on gradient embeddings, ``n`` positions.

    Gradient embedding of item i: ``g_i = (p_i - e_{yhat_i}) ⊗ x_i``; its norm is large
    for uncertain items, and k-means++ spreads the batch across directions. The first
    pick is the largest gradient norm, as in the paper.
    """
    p = check_proba(proba)
    X = np.asarray(check_features(embeddings, "embeddings"), dtype=np.float64)
    if X.shape[0] != p.shape[0]:
        raise InputError(f"proba has {p.shape[0]} rows; embeddings has {X.shape[0]}.")
    _check_n(n, X.shape[0], "badge")
    A = p.copy()
    A[np.arange(len(A)), p.argmax(axis=1)] -= 1.0
    a2, x2 = (A * A).sum(axis=1), (X * X).sum(axis=1)
    g2 = a2 * x2  # |a ⊗ x|^2 = |a|^2 |x|^2

    def dist_to(i: int) -> Any:
        return np.maximum(g2 + g2[i] - 2.0 * (A @ A[i]) * (X @ X[i]), 0.0)

    rng = check_random_state(random_state)
    return _kmeans_pp(dist_to, X.shape[0], n, np.ones(X.shape[0]), int(g2.argmax()), rng)


def cluster_top(
    embeddings: ArrayLike,
    scores: ArrayLike,
    n: int,
    *,
    oversample: int = 10,
    random_state: Any = None,
) -> IntArray:
    """Diverse batch: k-means (weighted by score) on the ``oversample * n`` best items.

    Returns ``n`` positions: the highest-scoring item of each of the ``n`` clusters
    (a cluster left empty by k-means is filled with the best unchosen item), in
    decreasing score.
    """
    from sklearn.cluster import KMeans

    E = np.asarray(check_features(embeddings, "embeddings"), dtype=np.float64)
    s = np.asarray(scores, dtype=np.float64)
    if s.shape != (E.shape[0],) or not np.isfinite(s).all():
        raise InputError("scores must be finite and one per embedding row.")
    _check_n(n, E.shape[0], "cluster_top")
    check_number(oversample, "oversample", "cluster_top", kind=int, low=1)
    order = np.lexsort((np.arange(len(s)), -s))
    top = order[: min(len(s), oversample * n)]
    if len(top) == n:
        return top.astype(np.int64)
    seed = int(check_random_state(random_state).integers(2**31 - 1))
    w = s[top] - s[top].min() + 1e-6
    km = KMeans(n_clusters=n, n_init=1, random_state=seed).fit(E[top], sample_weight=w)
    best = np.full(n, -1, dtype=np.int64)
    # top is in decreasing score: the first member seen of a cluster is its best
    labels = km.labels_
    first = np.unique(labels, return_index=True)
    best[first[0]] = top[first[1]]
    chosen = best[best >= 0]
    if len(chosen) < n:
        rest = top[~np.isin(top, chosen)]
        chosen = np.concatenate([chosen, rest[: n - len(chosen)]])
    return chosen[np.lexsort((chosen, -s[chosen]))].astype(np.int64)


def kmeans_seed(
    embeddings: ArrayLike, n: int, *, max_sample: int = 20_000, random_state: Any = None
) -> IntArray:
    """Cold start: ``n`` diverse rows of ``embeddings`` (m, d), one per k-means cluster.

    k-means with ``n`` clusters on a random sample of at most ``max_sample`` rows (so a
    pool of millions costs no more than that sample); the row nearest each centroid is
    chosen. Returns distinct positions into ``embeddings``.
    """
    from sklearn.cluster import KMeans

    E = np.asarray(check_features(embeddings, "embeddings"), dtype=np.float64)
    _check_n(n, E.shape[0], "kmeans_seed")
    rng = check_random_state(random_state)
    sample = np.arange(E.shape[0])
    if E.shape[0] > max_sample:
        sample = np.sort(rng.choice(E.shape[0], size=max_sample, replace=False))
    S = E[sample]
    if n == len(sample):
        return sample.astype(np.int64)
    seed = int(rng.integers(2**31 - 1))
    km = KMeans(n_clusters=n, n_init=1, random_state=seed).fit(S)
    sq = (S * S).sum(axis=1)
    chosen: list[int] = []
    taken = np.zeros(len(S), dtype=bool)
    for c in km.cluster_centers_:
        d2 = _sq_dist(S, c, sq)
        d2[taken] = np.inf  # two centroids never claim the same row
        i = int(d2.argmin())
        taken[i] = True
        chosen.append(i)
    return sample[np.asarray(chosen)].astype(np.int64)
