"""Data pruning: keep the most useful fraction of a data set.

The self-supervised prototype metric (Sorscher et al., "Beyond neural scaling
laws", NeurIPS 2022): k-means on the L2-normalised embeddings, and each item's
cosine distance to its nearest centroid. Near a centroid = easy (prototypical),
far = hard. Their theory and experiments: when little data is kept, keep the
*easy* items; when much is kept, keep the *hard* ones. ``keep="auto"`` keeps
easy items below ``EASY_BELOW`` of the data and hard ones from there on.

Baselines: ``"random"`` and ``"class_balanced"`` (random with equal per-class
counts, as far as the classes allow).

Measured (``benchmarks/audit_pruning.py``, Fashion-MNIST, 10,000 images, logistic
regression): the prototype metric lost to random at every fraction from 10% to 80%
(easy items by 20 points at 10%, hard items by under 1 point from 40% on). Prune at
random or class-balanced unless such a curve on your own data shows it ahead.

Example
-------
>>> import numpy as np
>>> from labelwise.curate import prune
>>> X = np.random.default_rng(0).normal(size=(100, 4))
>>> prune(X, 0.3, random_state=0).shape
(30,)
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labelwise._validation import check_features, check_number, check_option, check_random_state
from labelwise.errors import InputError

__all__ = ["EASY_BELOW", "STRATEGIES", "prototype_scores", "prune"]

STRATEGIES = ("prototype", "random", "class_balanced")

#: ``keep="auto"`` keeps the easy items when keeping less than this fraction.
EASY_BELOW = 0.3


def prototype_scores(
    X: ArrayLike, *, n_clusters: int = 10, random_state: Any = 0
) -> NDArray[np.float64]:
    """Cosine distance of each item to its nearest k-means centroid (high = hard).

    k-means runs on L2-normalised rows (faiss, 20 iterations).
    """
    import faiss

    check_number(n_clusters, "n_clusters", "prototype_scores", kind=int, low=1)
    data = check_features(X, "X").astype(np.float32)
    data /= np.maximum(np.linalg.norm(data, axis=1, keepdims=True), 1e-12)
    data = np.ascontiguousarray(data)
    n, d = data.shape
    k = int(min(n_clusters, n))
    seed = int(check_random_state(random_state).integers(2**31 - 1))
    km = faiss.Kmeans(
        d,
        k,
        niter=20,
        seed=seed,
        spherical=True,
        max_points_per_centroid=10_000,
        min_points_per_centroid=1,
    )
    km.train(data)
    sims, _ = km.index.search(data, 1)
    out: NDArray[np.float64] = np.clip(1.0 - sims[:, 0].astype(np.float64), 0.0, 2.0)
    return out


def prune(
    X: ArrayLike | None,
    fraction: float,
    *,
    strategy: Literal["prototype", "random", "class_balanced"] = "prototype",
    labels: ArrayLike | None = None,
    keep: Literal["auto", "easy", "hard"] = "auto",
    per_class: bool = True,
    n_clusters: int | None = None,
    scores: ArrayLike | None = None,
    random_state: Any = 0,
) -> NDArray[np.int64]:
    """Indices of the items to keep (sorted), ``round(fraction * n)`` of them.

    Parameters
    ----------
    X : array (n, d) or None
        Embeddings (needed by ``"prototype"`` unless ``scores`` is given; ``random``
        only needs its length).
    fraction : float in (0, 1]
        Share of the items to keep.
    strategy : {"prototype", "random", "class_balanced"}
    labels : array (n,), optional
        Needed by ``"class_balanced"``; sets the default ``n_clusters`` of the
        prototype metric to the number of classes.
    keep : {"auto", "easy", "hard"}
        For ``"prototype"``: ``"auto"`` keeps easy items below ``EASY_BELOW``, hard
        items from there on.
    per_class : bool
        For ``"prototype"`` with ``labels``: keep the same share of every class
        (easy or hard *within* the class). Without it, the easy items of a small
        fraction all come from the tightest clusters and whole classes vanish.
    n_clusters : int, optional
        k-means clusters (default: number of classes, else 10).
    scores : array (n,), optional
        Precomputed :func:`prototype_scores` (reused across fractions).
    random_state : int, Generator or None
    """
    check_number(fraction, "fraction", "prune", low=0, high=1, low_open=True)
    check_option(strategy, "strategy", "prune", STRATEGIES)
    check_option(keep, "keep", "prune", ("auto", "easy", "hard"))
    rng = check_random_state(random_state)
    if X is not None:
        n = check_features(X, "X").shape[0]
    elif scores is not None:
        n = np.asarray(scores).shape[0]
    elif labels is not None:
        n = np.asarray(labels).shape[0]
    else:
        raise InputError("prune needs X, scores or labels to know the items.")
    y = None
    if labels is not None:
        y = np.asarray(labels)
        if y.shape[0] != n:
            raise InputError(f"Lengths differ: X has {n}, labels has {y.shape[0]}.")
        if (y.dtype.kind == "f" and np.isnan(y).any()) or any(v is None for v in y.tolist()):
            raise InputError("labels has a missing value; prune needs every item labeled.")
    m = max(1, round(fraction * n))
    if strategy == "random":
        return np.sort(rng.choice(n, size=m, replace=False)).astype(np.int64)
    if strategy == "class_balanced":
        if y is None:
            raise InputError("strategy 'class_balanced' needs labels.")
        return _class_balanced(y, m, rng)
    if scores is None:
        if X is None:
            raise InputError("strategy 'prototype' needs X or scores.")
        k = n_clusters or (len(np.unique(y)) if y is not None else 10)
        s = prototype_scores(X, n_clusters=int(k), random_state=rng)
    else:
        s = np.asarray(scores, dtype=np.float64)
        if s.shape != (n,):
            raise InputError(f"scores must have shape ({n},); got {s.shape}.")
    easy = keep == "easy" or (keep == "auto" and fraction < EASY_BELOW)
    # random tie-break so equal scores do not keep items in file order
    order = np.lexsort((rng.random(n), s if easy else -s))
    if not (per_class and y is not None):
        return np.sort(order[:m]).astype(np.int64)
    _, codes = np.unique(y, return_inverse=True)
    codes = codes.ravel()
    quota = _quotas(np.bincount(codes), m)
    ranked = order[np.argsort(codes[order], kind="stable")]  # by class, best first within
    starts = np.r_[0, np.cumsum(np.bincount(codes))[:-1]]
    rank = np.empty(n, dtype=np.int64)
    rank[ranked] = np.arange(n) - starts[codes[ranked]]
    return np.flatnonzero(rank < quota[codes]).astype(np.int64)


def _quotas(counts: NDArray[np.int64], m: int) -> NDArray[np.int64]:
    """Items to keep per class, proportional to its size, summing to ``m``."""
    exact = counts * (m / counts.sum())
    quota = np.floor(exact).astype(np.int64)
    short = m - int(quota.sum())
    if short > 0:
        quota[np.argsort(-(exact - quota), kind="stable")[:short]] += 1
    return np.minimum(quota, counts)


def _class_balanced(y: NDArray[Any], m: int, rng: np.random.Generator) -> NDArray[np.int64]:
    _, codes = np.unique(y, return_inverse=True)
    codes = codes.ravel()
    counts = np.bincount(codes)
    k = counts.shape[0]
    # water-filling: equal quota per class, small classes give their surplus away
    quota = np.zeros(k, dtype=np.int64)
    left = m
    open_ = np.ones(k, dtype=bool)
    while left > 0 and open_.any():
        share = max(left // int(open_.sum()), 1)
        add = np.where(open_, np.minimum(share, counts - quota), 0)
        if add.sum() > left:
            idx = np.flatnonzero(add)[:left]
            add = np.zeros(k, dtype=np.int64)
            add[idx] = 1
        quota += add
        left -= int(add.sum())
        open_ = quota < counts
    perm = rng.permutation(codes.shape[0])
    ranked = perm[np.argsort(codes[perm], kind="stable")]
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    rank = np.empty(codes.shape[0], dtype=np.int64)
    rank[ranked] = np.arange(codes.shape[0]) - starts[codes[ranked]]
    return np.flatnonzero(rank < quota[codes]).astype(np.int64)
