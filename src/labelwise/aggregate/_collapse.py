"""Detect an EM aggregator that collapsed onto one class.

A model fitted by EM can fall into a degenerate optimum where (almost) every item
gets the same class although the answers say otherwise: a learned class prior that
feeds on itself, or a symmetric-error model (one-coin, GLAD) facing annotators who
are biased toward one class. The labels then look confident and are silently wrong,
so the fit compares its labels with the plain vote and warns.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from numpy.typing import NDArray

from labelwise.annotations import Annotations

__all__ = ["CollapseWarning", "check_collapse", "vote_top_shares", "warn_if_collapsed"]

#: A fit collapsed when its most frequent class takes at least this share of items ...
COLLAPSE_SHARE = 0.9
#: ... and that share exceeds the majority vote's share of the same class by this much.
COLLAPSE_EXCESS = 0.2


class CollapseWarning(UserWarning):
    """An aggregator gave nearly every item one class that the vote gives far fewer."""


def vote_top_shares(annotations: Annotations) -> NDArray[np.float64]:
    """Share of items whose majority vote is each class, ties split evenly, shape (K,).

    Computed over the (item, label) cells that occur, so it stays cheap for many classes.
    """
    k = annotations.n_classes
    cell = annotations.item.astype(np.int64) * k + annotations.label
    cells, counts = np.unique(cell, return_counts=True)
    item, label = cells // k, (cells % k).astype(np.int64)
    top = np.zeros(annotations.n_items, dtype=np.int64)
    np.maximum.at(top, item, counts)
    is_top = counts == top[item]
    n_top = np.bincount(item[is_top], minlength=annotations.n_items)
    mass = np.bincount(label[is_top], weights=1.0 / n_top[item[is_top]], minlength=k)
    answered = max(int((n_top > 0).sum()), 1)
    return mass / answered  # type: ignore[no-any-return]


def check_collapse(annotations: Annotations, codes: NDArray[np.int32], name: str) -> bool:
    """Warn with :class:`CollapseWarning` and return ``True`` when the labels collapsed.

    Collapsed: the most frequent consensus class covers at least ``COLLAPSE_SHARE`` of
    the items and at least ``COLLAPSE_EXCESS`` more than the majority vote gives it.
    """
    ok = codes >= 0
    if not ok.any():
        return False
    k = annotations.n_classes
    shares = np.bincount(codes[ok], minlength=k) / ok.sum()
    return warn_if_collapsed(shares, vote_top_shares(annotations), annotations.classes, name)


def warn_if_collapsed(
    shares: NDArray[np.float64], vote_shares: NDArray[np.float64], classes: Any, name: str
) -> bool:
    """The rule of :func:`check_collapse` on the class shares of the consensus and of the
    majority vote (so that partitioned fits, which only have the totals, apply it too)."""
    top = int(np.argmax(shares))
    vote = float(vote_shares[top])
    if shares[top] < COLLAPSE_SHARE or shares[top] - vote < COLLAPSE_EXCESS:
        return False
    warnings.warn(
        f"{name} collapsed onto class {np.asarray(classes)[top : top + 1].tolist()[0]!r}: it "
        f"gives it "
        f"{shares[top]:.0%} of the items where the majority vote gives it {vote:.0%}. "
        "The fit is a degenerate optimum (often annotators biased toward one class, "
        "which one-coin models and GLAD cannot express): compare with DawidSkene "
        "(per-class confusion) or MajorityVote before using these labels.",
        CollapseWarning,
        stacklevel=4,
    )
    return True
