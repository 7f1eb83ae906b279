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
time (Jeffreys Beta(1/2, 1/2) posterior mean). If no threshold qualifies the target is
*unreachable* with this crowd and this much gold: the claim says so and the rule
finishes no item on confidence (items go on to the cap). Without gold no such check
exists; the claim carries a warning instead.

Picking "the lowest threshold whose gold items pass" and then quoting those same gold
items' accuracy is optimistic: among many candidate thresholds, the one picked is
likely one where the draw of gold items happened to be lucky (a winner's curse).
The claim therefore subtracts the *optimism of the whole selection*, measured by the
bootstrap (Efron's optimism correction): the gold items are resampled, the threshold
search is rerun on each resample, and the mean excess of each resample's claim over
what the original gold items give at the resample's threshold is taken off the
estimate and its interval. A claim resting on fewer than ``min_gold`` finished gold
items is flagged ``weak``: its interval, not its point, is what it vouches for.

Gold items replayed this way are still not exactly the items the rule finishes: on
web search relevance and LabelMe they were 3-4 points more accurate at the same
confidence than regular items (benchmarks/RESULTS.md, "Calibration and replay, round
3"). *Audit items* close that gap: known-answer items routed, answered and aggregated
exactly like regular ones, whose known class is used for nothing but the claim
(:func:`audit_claim`; ``GoldQuestions(audit=)``). The finished audit items are a random
sample of the finished items, not chosen by the threshold search, so their accuracy
is an unbiased estimate of what the user gets.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.stats import beta, norm

from labelwise._validation import check_number
from labelwise.errors import ParameterError

__all__ = ["NO_GOLD_WARNING", "StopClaim", "audit_claim", "gold_stop_rule", "unchecked_claim"]

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
        of the time (posterior mean before the selection correction).
    accuracy : float
        Estimated accuracy of the finished items (NaN without gold): the posterior
        mean of the finished gold items' accuracy at ``threshold`` minus
        ``optimism`` (at the best threshold when unreachable).
    low, high : float
        Central ``level`` Beta interval of that accuracy, shifted by the same
        correction (NaN without gold).
    n_gold : int
        Gold items the rule finished at ``threshold`` (what the estimate rests on).
    source : str
        ``"gold"`` (checked on gold items' answers), ``"audit"`` (the threshold
        checked on gold, the accuracy measured on audit items) or ``"unchecked"``.
    warning : str or None
        Set when the claim is unchecked, unreachable or weak.
    weak : bool
        True when fewer than ``min_gold`` finished gold items back the claim: with
        so few, the point estimate cannot tell 0.9 from 0.99; read the claim as
        "at least ``low``".
    optimism : float
        What the selection correction took off (the bootstrap's measured optimism
        of picking the threshold on the same gold items; 0 when not corrected).
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
    weak: bool = False
    optimism: float = 0.0


def unchecked_claim(target: float, warning: str = NO_GOLD_WARNING) -> StopClaim:
    """The claim of a rule without gold: the threshold is the target, and a warning."""
    nan = float("nan")
    return StopClaim(target, target, True, nan, nan, nan, 0, "unchecked", warning)


_METHODS = ("corrected", "beta")


def gold_stop_rule(
    item: ArrayLike,
    confidence: ArrayLike,
    right: ArrayLike,
    target: float,
    *,
    n_answers: ArrayLike | None = None,
    min_answers: int = 1,
    level: float = 0.9,
    method: str = "corrected",
    n_boot: int = 200,
    min_gold: int = 20,
    random_state: int = 0,
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
    method : {"corrected", "beta"}
        ``"corrected"``: Jeffreys posterior mean, minus the bootstrap optimism of
        the threshold search (see the module). ``"beta"``: the Beta(1, 1) posterior
        mean at the picked threshold, uncorrected (labelwise before the correction;
        it over-claimed by 2-5 points on web search relevance and LabelMe and
        under-claimed by 8 with 9 gold items).
    n_boot : int
        Bootstrap resamples of the gold items for the correction.
    min_gold : int
        Fewer finished gold items than this make the claim ``weak``.
    random_state : int
        Seed of the resampling (the claim is a deterministic function of the gold).

    Returns
    -------
    StopClaim

    Examples
    --------
    >>> import numpy as np
    >>> item = np.repeat(np.arange(40), 2)
    >>> conf = np.tile([0.92, 0.99], 40)
    >>> right = np.tile([True, True], 40)
    >>> right[0] = False
    >>> claim = gold_stop_rule(item, conf, right, 0.9)
    >>> bool(claim.reachable), claim.threshold, claim.n_gold, bool(claim.weak)
    (True, 0.92, 40, False)
    """
    if method not in _METHODS:
        raise ParameterError(
            f"The 'method' parameter of gold_stop_rule must be one of "
            f"{', '.join(map(repr, _METHODS))}. Got {method!r} instead."
        )
    check_number(n_boot, "n_boot", "gold_stop_rule", kind=int, low=1)
    check_number(min_gold, "min_gold", "gold_stop_rule", kind=int, low=1)
    it = np.asarray(item, dtype=np.int64)
    conf = np.asarray(confidence, dtype=np.float64)
    ok = np.asarray(right, dtype=bool)
    first = np.r_[True, it[1:] != it[:-1]] if it.size else np.zeros(0, dtype=bool)
    starts = np.flatnonzero(first)
    if n_answers is None:
        n = np.arange(it.size) - starts[np.cumsum(first) - 1] + 1
    else:
        n = np.asarray(n_answers, dtype=np.int64)
    eligible = n >= min_answers
    cands = np.unique(conf[eligible & (conf >= target)])
    if cands.size > _MAX_THRESHOLDS:
        cands = np.unique(np.quantile(cands, np.linspace(0.0, 1.0, _MAX_THRESHOLDS)))
    if cands.size == 0:
        nan = float("nan")
        why = (
            f"Target {target} unreachable: no gold item's calibrated confidence reached it "
            f"({starts.size} gold items answered). No item is finished on confidence."
        )
        return StopClaim(target, float("inf"), False, nan, nan, nan, 0, "gold", why)
    fin, hit = _outcomes(eligible, conf, ok, starts, cands)
    f, r = fin.sum(axis=0).astype(float), hit.sum(axis=0).astype(float)
    a0 = 1.0 if method == "beta" else 0.5
    est = (r + a0) / (f + 2 * a0)
    passing = (est >= target) & (f > 0)
    reachable = bool(passing.any())
    j = int(np.argmax(passing)) if reachable else int(np.argmax(np.where(f > 0, est, -1.0)))
    optimism, spread = 0.0, 0.0
    if method == "corrected" and reachable:
        optimism, spread = _optimism(fin, hit, est, target, a0, n_boot, random_state)
    acc = float(est[j]) - optimism
    lo, hi = beta.ppf([(1 - level) / 2, (1 + level) / 2], r[j] + a0, f[j] - r[j] + a0)
    # the selection adds its own spread: combined in quadrature with the Beta's
    z = float(norm.ppf((1 + level) / 2)) * spread
    lo = float(est[j]) - np.hypot(float(est[j]) - lo, z) - optimism
    hi = float(est[j]) + np.hypot(hi - float(est[j]), z) - optimism
    lo, hi = float(np.clip(lo, 0, 1)), float(np.clip(hi, 0, 1))
    acc = float(np.clip(acc, 0, 1))
    n_fin = int(f[j])
    if not reachable:
        need = int(np.ceil(a0 * (2 * target - 1) / (1.0 - target) - 1e-9))
        why = (
            f"Target {target} unreachable with this crowd and gold: at best {acc:.4f} "
            f"(interval {lo:.3f}-{hi:.3f}) of the {n_fin} gold items the rule finished "
            f"were right (vouching for {target} takes at least {need} finished gold items, "
            "all right). No item is finished on confidence."
        )
        return StopClaim(target, float("inf"), False, acc, lo, hi, n_fin, "gold", why)
    weak = n_fin < min_gold
    notes = []
    if weak:
        notes.append(
            f"Weak claim: it rests on {n_fin} finished gold items (fewer than {min_gold}); "
            f"read it as accuracy at least {lo:.3f}, not as {acc:.3f}."
        )
    if acc < target:
        notes.append(
            f"Corrected for the optimism of choosing the threshold on the same gold items "
            f"({optimism:.3f}), the estimate {acc:.3f} is below the target {target}."
        )
    return StopClaim(
        target, float(cands[j]), True, acc, lo, hi, n_fin, "gold",
        " ".join(notes) or None, weak, optimism,
    )  # fmt: skip


def audit_claim(
    claim: StopClaim, right: ArrayLike, *, level: float = 0.9, min_gold: int = 20
) -> StopClaim:
    """Restate a gold-checked claim from the audit items the rule has finished.

    Parameters
    ----------
    claim : StopClaim
        The claim of :func:`gold_stop_rule` (its threshold is kept).
    right : array of bool (F,)
        For each audit item whose confidence reached ``claim.threshold``: whether its
        current label is its known class.
    level : float
        Coverage of the Jeffreys interval reported.
    min_gold : int
        Fewer finished audit items than this make the claim ``weak``.

    Returns
    -------
    StopClaim
        ``source="audit"``: the share of the finished audit items that are right
        and its Jeffreys interval, with ``n_gold`` the finished audit items; the
        claim unchanged when none has finished yet or the target is unreachable.
    """
    ok = np.asarray(right, dtype=bool).reshape(-1)
    if not claim.reachable or ok.size == 0:
        return claim
    r, f = float(ok.sum()), int(ok.size)
    # not chosen by the threshold search, so the plain share is unbiased; a Beta
    # posterior mean would pull it toward 1/2 (4 points low with 10 items at 0.94)
    acc = r / f
    lo, hi = beta.ppf([(1 - level) / 2, (1 + level) / 2], r + 0.5, f - r + 0.5)
    notes = []
    if f < min_gold:
        notes.append(
            f"Weak claim: it rests on {f} finished audit items (fewer than {min_gold}); "
            f"read it as accuracy at least {lo:.3f}, not as {acc:.3f}."
        )
    if acc < claim.target:
        notes.append(
            f"The finished audit items are {acc:.3f} right, below the target {claim.target}."
        )
    return replace(
        claim, accuracy=acc, low=float(lo), high=float(hi), n_gold=f, source="audit",
        warning=" ".join(notes) or None, weak=f < min_gold, optimism=0.0,
    )  # fmt: skip


def _outcomes(
    eligible: NDArray[np.bool_],
    conf: NDArray[np.float64],
    right: NDArray[np.bool_],
    starts: NDArray[np.int64],
    cands: NDArray[np.float64],
) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """For each gold item (rows) and candidate threshold (columns): whether the rule
    finishes it, and whether it is right at the first prefix that reaches the threshold."""
    p = conf.size
    positions = np.arange(p)
    fin = np.zeros((starts.size, cands.size), dtype=bool)
    hit = np.zeros((starts.size, cands.size), dtype=bool)
    for c, t in enumerate(cands):
        first_hit = np.minimum.reduceat(np.where(eligible & (conf >= t), positions, p), starts)
        done = first_hit < p
        fin[:, c] = done
        hit[done, c] = right[first_hit[done]]
    return fin, hit


def _optimism(
    fin: NDArray[np.bool_],
    hit: NDArray[np.bool_],
    est: NDArray[np.float64],
    target: float,
    a0: float,
    n_boot: int,
    random_state: int,
) -> tuple[float, float]:
    """Mean and standard deviation over bootstrap resamples of the gold items of (the
    resample's claim at the threshold it picks) minus (the original gold items'
    estimate at that threshold)."""
    g = fin.shape[0]
    rng = np.random.default_rng(random_state)
    weights = rng.multinomial(g, np.full(g, 1.0 / g), size=n_boot).astype(np.float64)
    fb, rb = weights @ fin, weights @ hit
    eb = (rb + a0) / (fb + 2 * a0)
    passing = (eb >= target) & (fb > 0)
    picked = passing.any(axis=1)
    if not picked.any():
        return 0.0, 0.0
    jb = np.argmax(passing[picked], axis=1)
    excess = eb[picked][np.arange(jb.size), jb] - est[jb]
    return float(excess.mean()), float(excess.std())
