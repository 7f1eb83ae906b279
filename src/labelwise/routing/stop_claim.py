"""What a confidence stop rule may honestly claim about the items it finished.

A stop rule finishes an item the first time its posterior reaches the target. Even a
calibrated posterior over-states the accuracy of items finished that way: the rule
picks each item at its luckiest moment (the first answers that happen to agree), and
on real crowds a share of items is answered wrong by most of the crowd alike, which
no posterior built from the answers can see. Gold questions can: every gold item's
answers, in arrival order, replay the stop rule on an item whose class is known.

:func:`gold_stop_rule` runs the rule on the gold items at each candidate threshold
(the confidence at which an item is called finished) and picks the lowest threshold
at or above the target whose finished gold items are right at least ``target`` of the
time, counted with a Beta(1, 1) prior so that a handful of gold items cannot vouch for
99%. If no threshold qualifies the target is *unreachable* with this crowd and this
much gold: the claim says so and the rule finishes no item on confidence (items go on
to the cap). Without gold no such check exists; the claim carries a warning instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import beta

__all__ = ["NO_GOLD_WARNING", "StopClaim", "gold_stop_rule", "unchecked_claim"]

_MAX_THRESHOLDS = 200  # candidate thresholds tried (quantiles of the gold confidences)

#: What a stop rule without gold questions cannot see, as measured on real crowds.
NO_GOLD_WARNING = (
    "No gold questions: errors the whole crowd shares are invisible to the posterior. "
    "Replayed on six real crowds, items finished by this rule without gold were 0-19 "
    "points less accurate than their claimed confidence (3-5 points on RTE, TEMP and "
    "sentiment, 7-19 on web search relevance and LabelMe; benchmarks/RESULTS.md, "
    "'Calibration and replay'). Add gold questions to check the claim."
)


@dataclass(frozen=True)
class StopClaim:
    """The accuracy a confidence stop rule claims for the items it finishes.

    Attributes
    ----------
    target : float
        The accuracy asked for.
    threshold : float
        Confidence at which the rule finishes an item (>= target; ``inf`` when the
        target is unreachable: no item is finished on confidence).
    reachable : bool
        False when no threshold gave finished gold items right at least ``target``
        of the time (Beta(1, 1) posterior mean).
    accuracy : float
        Estimated accuracy of the finished items (NaN without gold): the Beta(1, 1)
        posterior mean of the finished gold items' accuracy at ``threshold`` (at the
        best threshold when unreachable).
    low, high : float
        Central ``level`` Beta interval of that accuracy (NaN without gold).
    n_gold : int
        Gold items the rule finished at ``threshold`` (what the estimate rests on).
    source : str
        ``"gold"`` (checked on gold items' answers) or ``"unchecked"``.
    warning : str or None
        Set when the claim is unchecked or unreachable.
    """

    target: float
    threshold: float
    reachable: bool
    accuracy: float
    low: float
    high: float
    n_gold: int
    source: str
    warning: str | None = None


def unchecked_claim(target: float, warning: str = NO_GOLD_WARNING) -> StopClaim:
    """The claim of a rule without gold: the threshold is the target, and a warning."""
    nan = float("nan")
    return StopClaim(target, target, True, nan, nan, nan, 0, "unchecked", warning)


def gold_stop_rule(
    item: ArrayLike,
    confidence: ArrayLike,
    right: ArrayLike,
    target: float,
    *,
    n_answers: ArrayLike | None = None,
    min_answers: int = 1,
    level: float = 0.9,
) -> StopClaim:
    """Replay a confidence stop rule on gold items and pick an honest threshold.

    Parameters
    ----------
    item : array of int (P,)
        Gold item of each prefix, prefixes of one item contiguous and in arrival order.
    confidence : array (P,)
        Calibrated confidence of the item's top class after that prefix of its answers.
    right : array of bool (P,)
        Whether that top class is the item's gold class.
    target : float
        The accuracy asked for.
    n_answers : array of int (P,), optional
        Answers in each prefix (default: its position within the item, from 1).
    min_answers : int
        The rule finishes no item with fewer answers.
    level : float
        Coverage of the Beta interval reported.

    Returns
    -------
    StopClaim
    """
    it = np.asarray(item, dtype=np.int64)
    conf = np.asarray(confidence, dtype=np.float64)
    ok = np.asarray(right, dtype=bool)
    first = np.r_[True, it[1:] != it[:-1]] if it.size else np.zeros(0, dtype=bool)
    if n_answers is None:
        group_start = np.maximum.accumulate(np.where(first, np.arange(it.size), 0))
        n = np.arange(it.size) - group_start + 1
    else:
        n = np.asarray(n_answers, dtype=np.int64)
    eligible = n >= min_answers
    cands = np.unique(conf[eligible & (conf >= target)])
    if cands.size > _MAX_THRESHOLDS:
        cands = np.unique(np.quantile(cands, np.linspace(0.0, 1.0, _MAX_THRESHOLDS)))
    group = np.cumsum(first) - 1
    n_groups = int(first.sum())
    best: tuple[float, int, int, float] | None = None  # (mean, right, finished, threshold)
    for t in cands:
        hit = eligible & (conf >= t)
        # the first prefix of each item that reaches t is where the rule stops it
        idx = np.flatnonzero(hit)
        if idx.size == 0:
            continue
        g = group[idx]
        stop = idx[np.r_[True, g[1:] != g[:-1]]]
        r, f = int(ok[stop].sum()), int(stop.size)
        mean = (r + 1.0) / (f + 2.0)
        if mean >= target:
            return _claim(target, float(t), True, r, f, level)
        if best is None or mean > best[0]:
            best = (mean, r, f, float(t))
    if best is None:
        nan = float("nan")
        why = (
            f"Target {target} unreachable: no gold item's calibrated confidence reached it "
            f"({n_groups} gold items answered). No item is finished on confidence."
        )
        return StopClaim(target, float("inf"), False, nan, nan, nan, 0, "gold", why)
    claim = _claim(target, best[3], False, best[1], best[2], level)
    need = int(np.ceil(target / (1.0 - target))) - 1
    why = (
        f"Target {target} unreachable with this crowd and gold: at best {claim.accuracy:.3f} "
        f"(interval {claim.low:.3f}-{claim.high:.3f}) of the {best[2]} gold items the rule "
        f"finished were right (vouching for {target} takes at least {need} finished gold "
        f"items, all right). No item is finished on confidence."
    )
    return StopClaim(
        target, float("inf"), False, claim.accuracy, claim.low, claim.high, best[2], "gold", why
    )


def _claim(
    target: float, threshold: float, reachable: bool, r: int, f: int, level: float
) -> StopClaim:
    a, b = r + 1.0, f - r + 1.0
    lo, hi = beta.ppf([(1 - level) / 2, (1 + level) / 2], a, b)
    return StopClaim(target, threshold, reachable, a / (a + b), float(lo), float(hi), f, "gold")
