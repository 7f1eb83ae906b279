"""Labeling functions made from a few labeled examples through sentence embeddings.

Each class gets one function that votes for it when an item's embedding is closest to
that class's centroid of examples, by a cosine margin over the runner-up class, and
abstains otherwise: a handful of labeled examples per class becomes K functions whose
coverage is tuned by one number.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from labelwise.errors import InputError
from labelwise.weak.votes import ABSTAIN_CODE, VoteMatrix

__all__ = ["prototype_votes"]


def prototype_votes(
    X: ArrayLike,
    examples_X: ArrayLike,
    examples_y: Sequence[Any],
    *,
    classes: Sequence[Any],
    margin: float = 0.05,
    item_ids: Any = None,
    prefix: str = "proto",
) -> VoteMatrix:
    """Votes of one nearest-centroid function per class.

    Parameters
    ----------
    X : array (n_items, d)
        Embeddings of the items to label (L2-normalised or not; cosine is used).
    examples_X, examples_y : array (n_examples, d), sequence of class names
        The few labeled examples. A class without an example gets a function that
        always abstains.
    classes : sequence
        The class list of the vote matrix.
    margin : float
        Vote only when the best centroid's cosine exceeds the second best by this much.
    item_ids, prefix
        Ids of the items; the functions are named ``f"{prefix}_{class}"``.

    Returns
    -------
    VoteMatrix
        n_items x n_classes votes, function ``j`` voting only for class ``j``.
    """
    x = np.asarray(X, dtype=np.float32)
    ex = np.asarray(examples_X, dtype=np.float32)
    ey = list(examples_y)
    cls = list(classes)
    if x.ndim != 2 or ex.ndim != 2 or x.shape[1] != ex.shape[1]:
        raise InputError(f"embedding shapes do not match: items {x.shape}, examples {ex.shape}.")
    if len(ey) != ex.shape[0]:
        raise InputError(f"{ex.shape[0]} example embeddings but {len(ey)} example labels.")
    bad = [y for y in ey if y not in cls]
    if bad:
        raise InputError(f"example label {bad[0]!r} is not one of the classes {cls}.")
    k = len(cls)
    cent = np.zeros((k, x.shape[1]), dtype=np.float32)
    has = np.zeros(k, dtype=bool)
    ey_arr = np.asarray(ey, dtype=object)
    for j, c in enumerate(cls):
        sel = ey_arr == c
        if sel.any():
            cent[j] = ex[sel].mean(axis=0)
            has[j] = True
    cent /= np.maximum(np.linalg.norm(cent, axis=1, keepdims=True), 1e-12)
    xn = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    sims = xn @ cent.T
    sims[:, ~has] = -np.inf
    order = np.argsort(-sims, axis=1)
    best = order[:, 0] if k else np.zeros(0, dtype=int)
    rows = np.arange(x.shape[0])
    gap = sims[rows, order[:, 0]] - sims[rows, order[:, 1]]
    codes = np.full((x.shape[0], k), ABSTAIN_CODE, dtype=np.int32)
    ok = np.isfinite(gap) & (gap >= margin)
    codes[rows[ok], best[ok]] = best[ok]
    return VoteMatrix.from_codes(
        codes, classes=cls, functions=[f"{prefix}_{c}" for c in cls], item_ids=item_ids
    )
