"""Choosing a self-training arm as the run goes, by how well each predicted the next labels.

Self-training helps or hurts depending on the data: on AG News pseudo-labels at 0.7
halve the labels margin needs, on SST-2 pseudo-labelling every row helps most, and on
images 0.9 does little. No single threshold is right for every set, and the user cannot
know in advance which one is. Every round the learner fits one model per arm (labels
only, and labels plus the pseudo-labels above each threshold); when the next batch's
labels arrive, each arm's model from *before* that batch is scored on them. That is a
prequential test (Dawid 1984): the batch is held out from every arm, its labels are
bought anyway, so the choice costs no label. The model used for the next query and for
prediction is the arm with the best discounted accuracy so far (follow the leader with
full information: every arm is scored on every batch, so no exploration is needed).

The discount lets the choice follow the run: which arm predicts best changes as labels
accumulate (pseudo-labels matter most while labels are few).

Example
-------
>>> import numpy as np
>>> s = prequential_update(np.zeros(2), np.zeros(2), np.array([[1, 0], [1, 1]]), 0.9)
>>> leader(*s)
0
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labelwise._validation import check_number
from labelwise.errors import InputError

__all__ = ["AUTO_THRESHOLDS", "leader", "prequential_update"]

FloatArr = NDArray[np.float64]

#: Arms of ``self_training="auto"``, in order of preference on a tie: pseudo-labels at
#: probability 0.9; none (plain active learning); at 0.7; every unlabeled row (0.0),
#: each pseudo-label weighted by its probability.
AUTO_THRESHOLDS: tuple[float | None, ...] = (0.9, None, 0.7, 0.0)


def prequential_update(
    hits: ArrayLike, seen: ArrayLike, correct: ArrayLike, discount: float
) -> tuple[FloatArr, FloatArr]:
    """Fold one batch into each arm's discounted count of right predictions.

    Parameters
    ----------
    hits, seen : array, shape (a,)
        Discounted right predictions and discounted items so far, per arm.
    correct : array of bool or 0/1, shape (m, a)
        Whether arm ``j``'s model (fitted before the batch) predicted item ``i`` right.
    discount : float in (0, 1]
        Weight kept by the past at each batch (1: every batch counts the same).

    Returns
    -------
    hits, seen : arrays, shape (a,)
        ``discount * hits + right in this batch`` and ``discount * seen + m``.
    """
    h = np.asarray(hits, dtype=np.float64)
    s = np.asarray(seen, dtype=np.float64)
    c = np.asarray(correct, dtype=np.float64)
    if c.ndim != 2 or c.shape[1] != h.shape[0] or s.shape != h.shape:
        raise InputError(
            f"correct must have shape (m, {h.shape[0]}) for {h.shape[0]} arms; got {c.shape}."
        )
    check_number(discount, "discount", "prequential_update", low=0, high=1, low_open=True)
    return discount * h + c.sum(axis=0), discount * s + c.shape[0]


def leader(hits: ArrayLike, seen: ArrayLike) -> int:
    """Arm with the highest discounted accuracy; the first arm on a tie or with no data."""
    h = np.asarray(hits, dtype=np.float64)
    s = np.asarray(seen, dtype=np.float64)
    acc = np.divide(h, s, out=np.zeros_like(h), where=s > 0)
    return int(np.flatnonzero(acc == acc.max())[0])
