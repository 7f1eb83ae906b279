"""Per-function analysis of a vote matrix: coverage, overlap, conflict, polarity, and
accuracy on the items whose true class is known."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from labelwise.errors import InputError
from labelwise.weak.votes import VoteMatrix

__all__ = ["encode_gold_for_votes", "function_summary", "vote_counts"]


def vote_counts(codes: NDArray[np.int32], n_classes: int) -> NDArray[np.int64]:
    """Votes per item and class, shape (n_items, n_classes); abstains are not counted."""
    n, m = codes.shape
    rows = np.repeat(np.arange(n), m)
    flat = codes.ravel()
    keep = flat >= 0
    cells = rows[keep].astype(np.int64) * n_classes + flat[keep]
    return np.bincount(cells, minlength=n * n_classes).reshape(n, n_classes)


def encode_gold_for_votes(votes: VoteMatrix, gold: Any) -> NDArray[np.int32]:
    """Gold class codes aligned with the vote matrix's items (``-1`` unknown).

    ``gold`` is an array of class names aligned with the items (``None``/NaN unknown),
    a Series or dict ``item -> class``, or a DataFrame with columns ``item, label``.
    """
    n = votes.n_items
    lookup = {c: k for k, c in enumerate(votes.classes.tolist())}
    if isinstance(gold, pd.DataFrame):
        if not {"item", "label"} <= set(gold.columns):
            raise InputError(f"gold needs columns item, label; got {list(gold.columns)}.")
        gold = dict(zip(gold["item"], gold["label"], strict=True))
    if isinstance(gold, dict | pd.Series):
        mapping = dict(gold)
        values = [mapping.get(i) for i in votes.item_ids.tolist()]
    else:
        values = list(np.asarray(gold, dtype=object))
        if len(values) != n:
            raise InputError(f"gold holds {len(values)} labels for {n} items.")
    out = np.full(n, -1, dtype=np.int32)
    for r, v in enumerate(values):
        if v is None or (isinstance(v, float) and np.isnan(v)):
            continue
        if v not in lookup:
            raise InputError(
                f"gold label {v!r} of item {votes.item_ids.tolist()[r]!r} is not one of the "
                f"classes {votes.classes.tolist()}."
            )
        out[r] = lookup[v]
    return out


def function_summary(votes: VoteMatrix, gold: Any = None) -> pd.DataFrame:
    """One row per labeling function: what it covers, where it meets and contradicts the
    others, and how often it is right where the truth is known.

    Columns: ``function``, ``polarity`` (the classes it ever voted), ``coverage`` (share
    of items it voted on), ``overlap`` (share of items where it and another function
    voted), ``conflict`` (share of items where another function voted a different
    class), ``n_errors`` (items on which it failed), and with ``gold``: ``n_gold``
    (gold items it voted on), ``correct``, ``incorrect``, ``accuracy`` (empirical,
    NaN when it voted on no gold item).

    Returns
    -------
    DataFrame
        The table Snorkel users know as ``LFAnalysis.lf_summary``, computed with array
        operations over the vote matrix.
    """
    codes, k = votes.codes, len(votes.classes)
    n = max(votes.n_items, 1)
    voted = codes >= 0
    counts = vote_counts(codes, k)
    n_votes = counts.sum(axis=1)
    same = np.take_along_axis(counts, np.maximum(codes, 0), axis=1)
    overlap = voted & (n_votes[:, None] > 1)
    conflict = voted & (n_votes[:, None] - same > 0)
    polarity = []
    for j in range(votes.n_functions):
        seen = np.unique(codes[voted[:, j], j])
        polarity.append(", ".join(str(c) for c in votes.classes[seen]))
    err_counts = (
        votes.errors.groupby("function")["item"].nunique()
        if len(votes.errors)
        else pd.Series(dtype=int)
    )
    frame = pd.DataFrame(
        {
            "function": list(votes.functions),
            "polarity": polarity,
            "coverage": voted.sum(axis=0) / n,
            "overlap": overlap.sum(axis=0) / n,
            "conflict": conflict.sum(axis=0) / n,
            "n_errors": [int(err_counts.get(f, 0)) for f in votes.functions],
        }
    )
    if gold is not None:
        g = encode_gold_for_votes(votes, gold)
        known = (g >= 0)[:, None] & voted
        right = known & (codes == g[:, None])
        frame["n_gold"] = known.sum(axis=0)
        frame["correct"] = right.sum(axis=0)
        frame["incorrect"] = frame["n_gold"] - frame["correct"]
        with np.errstate(invalid="ignore", divide="ignore"):
            frame["accuracy"] = np.where(
                frame["n_gold"] > 0, frame["correct"] / frame["n_gold"], np.nan
            )
    return frame
