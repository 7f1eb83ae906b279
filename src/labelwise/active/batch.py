"""Batch selection from scores: top-k, class-balanced top-k.

Both return positions into the scored rows, best first, never the same position
twice. Ties are broken by the lower position (deterministic; scikit-activeml breaks
them at random), so the same scores always give the same batch.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labelwise._validation import check_number
from labelwise.errors import InputError

__all__ = ["class_balanced_top_k", "top_k"]

IntArray = NDArray[np.int64]


def _check_scores(scores: ArrayLike, n: int, owner: str) -> NDArray[np.float64]:
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim != 1:
        raise InputError(f"scores must be 1-D; got shape {s.shape}.")
    if np.isnan(s).any():
        raise InputError(f"scores has a NaN at position {int(np.flatnonzero(np.isnan(s))[0])}.")
    check_number(n, "n", owner, kind=int, low=1)
    if n > s.shape[0]:
        raise InputError(f"{owner}: a batch of {n} is larger than the {s.shape[0]} items offered.")
    return s


def top_k(scores: ArrayLike, n: int) -> IntArray:
    """Positions of the ``n`` highest scores, highest first (ties: lower position first).

    O(len(scores)) with ``argpartition``; only the ``n`` chosen are sorted.
    """
    s = _check_scores(scores, n, "top_k")
    if n < len(s):
        kth = np.partition(-s, n - 1)[n - 1]
        cand = np.flatnonzero(-s <= kth)  # every item tied at the boundary, then cut
    else:
        cand = np.arange(len(s))
    order = np.lexsort((cand, -s[cand]))
    return cand[order[:n]].astype(np.int64)


def class_balanced_top_k(scores: ArrayLike, predicted: ArrayLike, n: int) -> IntArray:
    """``n`` positions spread evenly over predicted classes, best scores within each.

    Classes take turns (round robin over classes ordered by their best score); a class
    with too few items gives its turns to the others. Returns positions, best first
    within each turn.
    """
    s = _check_scores(scores, n, "class_balanced_top_k")
    pred = np.asarray(predicted)
    if pred.shape != s.shape:
        raise InputError(f"predicted has shape {pred.shape}; scores has {s.shape}.")
    order = np.lexsort((np.arange(len(s)), -s))
    cls_sorted = pred[order]
    # rank of each item within its predicted class (0 = best of that class)
    _, inverse = np.unique(cls_sorted, return_inverse=True)
    rank = np.empty(len(s), dtype=np.int64)
    first_pos = np.full(inverse.max() + 1, len(s), dtype=np.int64)
    # vectorised running rank: stable sort by class keeps score order inside a class
    by_class = np.argsort(inverse, kind="stable")
    starts = np.searchsorted(inverse[by_class], np.arange(inverse.max() + 1))
    rank[by_class] = np.arange(len(s)) - starts[inverse[by_class]]
    np.minimum.at(first_pos, inverse, np.arange(len(s)))
    # round robin: sort by (rank, position of the class's best item)
    key = np.lexsort((first_pos[inverse], rank))
    return order[key[:n]].astype(np.int64)
