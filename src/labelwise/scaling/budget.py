"""Budget planning: expected model accuracy against money, per labeling strategy.

Three things are combined:

1. the learning curve (a fitted :class:`~labelwise.scaling.CurveFit`): model
   accuracy against the number of *clean* labels;
2. what a strategy's labels are worth: how many answers it buys per item and how
   accurate the resulting label is, estimated by simulating a crowd with
   :func:`labelwise.simulate.simulate_annotations` and aggregating it with
   :class:`~labelwise.aggregate.MajorityVote` (or Dawid-Skene), by a
   :mod:`labelwise.routing` campaign for dynamic overlap, or given;
3. what label noise costs the model: ``noise_penalty`` accuracy points per point of
   label error (measure it with :func:`~labelwise.scaling.noise_volume_study`,
   whose ``impact()`` gives it per 10 points; the default 0.25 is what that study
   measures for logistic regression on digits: 0.19 with uniform noise, 0.28 with
   class-conditional noise. Prendki's CIFAR-10 study also found accuracy falling
   about linearly with noise).

A strategy with label accuracy ``q`` and ``r`` answers per item reaches accuracy
``curve(n / s) - noise_penalty * (1 - q)`` with ``n`` items for ``n * r *
cost_per_label``, where ``s`` is the share of items active learning needs compared
with random selection (1 without it).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from labelwise._validation import check_number, check_option, check_random_state
from labelwise.aggregate import DawidSkene, MajorityVote
from labelwise.scaling.fit import CurveFit, DataRequirement, ExtrapolationWarning
from labelwise.simulate import confusion_from_accuracy, simulate_annotations

__all__ = [
    "ACTIVE_LEARNING_SAVING",
    "BudgetPlan",
    "Strategy",
    "default_strategies",
    "dynamic_overlap_quality",
    "fixed_overlap_quality",
    "pareto_frontier",
    "plan_budget",
    "routed_overlap_quality",
]

#: Share of labels active learning needs compared with random selection, by default.
#: Pool-based uncertainty sampling commonly saves 20-50% of the labels on image and
#: text classification; 0.7 (30% saved) is a deliberately cautious figure. Measure
#: your own with labelwise's active-learning benchmarks and pass ``al_saving``.
ACTIVE_LEARNING_SAVING = 0.7


@dataclass(frozen=True)
class Strategy:
    """A labeling strategy: answers bought per item, the label accuracy they give,
    and the share of items it needs compared with random selection."""

    name: str
    labels_per_item: float
    label_accuracy: float
    item_share: float = 1.0


def _crowd(annotator_accuracy: float, n_classes: int, rng: np.random.Generator) -> Any:
    """A pool of 20 annotators whose accuracies spread +-0.1 around the given mean."""
    accs = np.clip(annotator_accuracy + rng.uniform(-0.1, 0.1, 20), 1.0 / n_classes, 1.0)
    return np.stack([confusion_from_accuracy(float(a), n_classes) for a in accs])


def fixed_overlap_quality(
    annotator_accuracy: float,
    n_classes: int,
    k: int,
    *,
    aggregator: str = "mv",
    n_items: int = 3000,
    random_state: Any = 0,
) -> float:
    """Accuracy of the aggregated label when ``k`` annotators label every item.

    Simulated: a crowd around ``annotator_accuracy`` (see ``_crowd``), ``k`` answers per
    item, majority vote (``"mv"``) or Dawid-Skene (``"ds"``) against the truth.
    """
    check_number(annotator_accuracy, "annotator_accuracy", "fixed_overlap_quality", low=0, high=1)
    check_number(k, "k", "fixed_overlap_quality", kind=int, low=1, high=20)
    check_option(aggregator, "aggregator", "fixed_overlap_quality", ["mv", "ds"])
    rng = check_random_state(random_state)
    truth = rng.integers(0, n_classes, n_items)
    ann = simulate_annotations(
        truth, _crowd(annotator_accuracy, n_classes, rng), per_item=k, random_state=rng
    )
    model = MajorityVote(random_state=0) if aggregator == "mv" or k < 3 else DawidSkene()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        codes = model.fit(ann).label_codes_
    return float((codes == truth).mean())


def dynamic_overlap_quality(
    annotator_accuracy: float,
    n_classes: int,
    *,
    lead: int = 2,
    max_labels: int = 7,
    n_items: int = 3000,
    random_state: Any = 0,
) -> tuple[float, float]:
    """Dynamic overlap: ask one annotator at a time until one answer leads by ``lead``
    votes (or ``max_labels`` answers). Returns (label accuracy, mean answers per item).

    Simulated over ``n_items`` items at once: all ``max_labels`` answers are drawn, and
    each item's stopping point is the first step where the lead is reached.
    """
    check_number(lead, "lead", "dynamic_overlap_quality", kind=int, low=1)
    check_number(max_labels, "max_labels", "dynamic_overlap_quality", kind=int, low=1, high=20)
    rng = check_random_state(random_state)
    truth = rng.integers(0, n_classes, n_items)
    ann = simulate_annotations(
        truth, _crowd(annotator_accuracy, n_classes, rng), per_item=max_labels, random_state=rng
    )
    answers = ann.label.reshape(n_items, max_labels)  # item-major, in asking order
    counts = np.cumsum(np.eye(n_classes, dtype=np.int32)[answers], axis=1)  # (n, m, K)
    top2 = np.sort(counts, axis=2)[:, :, -2:]
    done = (top2[:, :, 1] - top2[:, :, 0]) >= lead
    done[:, -1] = True
    stop = done.argmax(axis=1)
    final = counts[np.arange(n_items), stop].argmax(axis=1)
    return float((final == truth).mean()), float((stop + 1).mean())


def routed_overlap_quality(
    annotator_accuracy: float,
    n_classes: int,
    *,
    target: float = 0.95,
    cap: int = 9,
    n_items: int = 1000,
    random_state: Any = 0,
) -> tuple[float, float]:
    """Dynamic overlap as :mod:`labelwise.routing` runs it; (label accuracy, answers per item).

    A campaign (:func:`labelwise.routing.run_campaign`) with the
    :class:`~labelwise.routing.DynamicOverlap` policy, which asks until an item's
    posterior reaches ``target`` (at most ``cap`` answers), over ``n_items`` items and
    the same simulated crowd as :func:`fixed_overlap_quality`.
    """
    from labelwise.routing import DynamicOverlap, run_campaign
    from labelwise.simulate import AnnotatorPool

    check_number(
        target, "target", "routed_overlap_quality", low=0, high=1, low_open=True, high_open=True
    )
    rng = check_random_state(random_state)
    conf = _crowd(annotator_accuracy, n_classes, rng)
    w = conf.shape[0]
    pool = AnnotatorPool(
        confusions=conf,
        kinds=np.full(w, "simulated", dtype=object),
        rates=np.full(w, 1.0 / w),
        costs=np.ones(w),
    )
    truth = rng.integers(0, n_classes, n_items)
    res = run_campaign(truth, pool, DynamicOverlap(target=target, cap=cap), random_state=rng)
    return res.accuracy, float(res.answers_per_item.mean())


@dataclass(frozen=True)
class BudgetPlan:
    """The outcome of :func:`plan_budget`.

    Attributes
    ----------
    strategies : DataFrame
        One row per strategy: answers per item, label accuracy, verdict, items needed
        in all (whole numbers, with interval; NaN where no bound exists), items still to
        label beyond those in hand, the money for them (and interval), reachable.
    curves : DataFrame
        ``strategy, money, accuracy``: expected model accuracy against total money.
    frontier : DataFrame
        The Pareto frontier of ``curves``: no other point is cheaper and better.
    cheapest : str or None
        The cheapest strategy that reaches the target, None when none does.
    requirement : DataRequirement
        Clean labels the target needs, from the curve alone.
    assumptions : dict
        The figures the plan rests on.
    """

    target: float
    cost_per_label: float
    strategies: pd.DataFrame
    curves: pd.DataFrame
    frontier: pd.DataFrame
    cheapest: str | None
    requirement: DataRequirement
    assumptions: dict[str, float] = field(default_factory=dict)


def default_strategies(
    annotator_accuracy: float,
    n_classes: int,
    *,
    target_label_accuracy: float = 0.95,
    al_saving: float = ACTIVE_LEARNING_SAVING,
    dynamic: tuple[float, float] | None = None,
    random_state: Any = 0,
) -> list[Strategy]:
    """The four strategies of the plan, their redundancy found by simulation.

    Fixed overlap uses the smallest odd ``k`` (up to 9) whose majority vote reaches
    ``target_label_accuracy``. Dynamic overlap is a :mod:`labelwise.routing` campaign
    with the ``DynamicOverlap`` policy at that target (:func:`routed_overlap_quality`);
    where routing is not installed, the simpler rule of :func:`dynamic_overlap_quality`
    (ask until one answer leads by 2, 3 or 4 votes) stands in. ``dynamic`` =
    (label accuracy, answers per item) overrides both with a given figure.
    """
    once = fixed_overlap_quality(annotator_accuracy, n_classes, 1, random_state=random_state)
    k, q_k = 1, once
    for k in (3, 5, 7, 9):
        q_k = fixed_overlap_quality(annotator_accuracy, n_classes, k, random_state=random_state)
        if q_k >= target_label_accuracy:
            break
    if dynamic is None:
        try:
            dynamic = routed_overlap_quality(
                annotator_accuracy,
                n_classes,
                target=target_label_accuracy,
                random_state=random_state,
            )
        except ImportError:
            dynamic = None
    if dynamic is None:
        q_d, r_d = once, 1.0
        for lead in (2, 3, 4):
            q_d, r_d = dynamic_overlap_quality(
                annotator_accuracy,
                n_classes,
                lead=lead,
                max_labels=2 * lead + 3,
                random_state=random_state,
            )
            if q_d >= target_label_accuracy:
                break
    else:
        q_d, r_d = dynamic
    return [
        Strategy("label everything once", 1.0, once),
        Strategy(f"{k} labels per item (majority vote)", float(k), q_k),
        Strategy("dynamic overlap", r_d, q_d),
        Strategy("active learning + dynamic overlap", r_d, q_d, al_saving),
    ]


def plan_budget(
    fit: CurveFit,
    *,
    target: float,
    cost_per_label: float,
    annotator_accuracy: float = 0.85,
    n_classes: int = 2,
    strategies: list[Strategy] | None = None,
    target_label_accuracy: float = 0.95,
    noise_penalty: float = 0.25,
    al_saving: float = ACTIVE_LEARNING_SAVING,
    n_grid: int = 60,
    labels_in_hand: int | None = None,
    random_state: Any = 0,
) -> BudgetPlan:
    """Expected model accuracy against money for each strategy, and the cheapest one.

    Parameters
    ----------
    fit : CurveFit
        A fitted curve of model accuracy against clean labels.
    target : float
        Model accuracy wanted.
    cost_per_label : float
        Money per single answer.
    annotator_accuracy, n_classes :
        Used to simulate the strategies' label accuracy (ignored with ``strategies``).
    strategies : list of Strategy, optional
        Given strategies instead of the simulated defaults.
    noise_penalty : float
        Model accuracy points lost per point of label error.
    al_saving : float in (0, 1]
        Share of items active learning needs (see :data:`ACTIVE_LEARNING_SAVING`).
    labels_in_hand : int, optional
        Labels you already hold (default: the largest size the curve was fitted on).
        Money is priced for the items still to label only; a target the measured curve
        already reaches prices nothing.

    Returns
    -------
    BudgetPlan
        ``strategies`` has whole item counts; a bound that does not exist (the
        pessimistic curve never reaches the target) is NaN with ``verdict`` saying why,
        never ``inf``.
    """
    check_number(target, "target", "plan_budget", low=0, high=1, low_open=True)
    check_number(cost_per_label, "cost_per_label", "plan_budget", low=0, low_open=True)
    check_number(
        annotator_accuracy, "annotator_accuracy", "plan_budget", low=0, high=1, low_open=True
    )
    check_number(n_classes, "n_classes", "plan_budget", kind=int, low=2)
    check_number(noise_penalty, "noise_penalty", "plan_budget", low=0)
    check_number(al_saving, "al_saving", "plan_budget", low=0, high=1, low_open=True)
    check_number(target_label_accuracy, "target_label_accuracy", "plan_budget", low=0, high=1)
    if labels_in_hand is not None:
        check_number(labels_in_hand, "labels_in_hand", "plan_budget", kind=int, low=0)
    if strategies is None:
        strategies = default_strategies(
            annotator_accuracy,
            n_classes,
            target_label_accuracy=target_label_accuracy,
            al_saving=al_saving,
            random_state=random_state,
        )
    requirement = fit.n_needed(target)
    have = fit.n_max_ if labels_in_hand is None else int(labels_in_hand)
    rows = []
    for s in strategies:
        need = target + noise_penalty * (1.0 - s.label_accuracy)
        req = fit.n_needed(need) if need <= 1.0 else None
        measured = requirement.n if requirement.verdict == "reached" else None
        rows.append(_price(s, req, measured, have, cost_per_label))
    table = pd.DataFrame(rows)
    reached = table[table["reachable"]]
    cheapest = None if reached.empty else str(reached.sort_values("money").iloc[0]["strategy"])
    # the curves price every item (from zero labels): their money axis spans the totals
    totals = table["items needed"] * table["answers per item"] * cost_per_label
    top = float(np.nanmax(totals)) if totals.notna().any() else math.nan
    if not math.isfinite(top) or top <= 0:
        top = fit.n_max_ * 20 * max(s.labels_per_item for s in strategies) * cost_per_label
    money = np.geomspace(top / 200, top * 2, n_grid)
    curves = _curves(fit, strategies, money, cost_per_label, noise_penalty, 1.0 / n_classes)
    return BudgetPlan(
        target=float(target),
        cost_per_label=float(cost_per_label),
        strategies=table,
        curves=curves,
        frontier=pareto_frontier(curves),
        cheapest=cheapest,
        requirement=requirement,
        assumptions={
            "annotator accuracy": float(annotator_accuracy),
            "target label accuracy": float(target_label_accuracy),
            "noise penalty (points per point of label error)": float(noise_penalty),
            "active-learning share of items": float(al_saving),
        },
    )


def _whole(n: float, share: float) -> float:
    """Items for ``n`` clean-label equivalents at ``share``: a whole number, NaN for none."""
    return float(math.ceil(n * share - 1e-9)) if math.isfinite(n) else math.nan


def _price(
    s: Strategy, req: DataRequirement | None, reached: float | None, have: int, cost: float
) -> dict[str, Any]:
    """One row of the strategy table: whole item counts, money for the items still to
    label, and the verdict. ``reached`` is the measured size that already scores the
    target (then nothing is priced), None otherwise."""
    per_item = s.labels_per_item * cost
    row: dict[str, Any] = {
        "strategy": s.name,
        "answers per item": s.labels_per_item,
        "label accuracy": s.label_accuracy,
    }
    if reached is not None:
        n = float(math.ceil(reached))
        return row | {
            "verdict": "already reached",
            "items needed": n,
            "items low": n,
            "items high": n,
            "items to label": 0.0,
            "money": 0.0,
            "money low": 0.0,
            "money high": 0.0,
            "reachable": True,
        }
    n = low = high = math.nan
    verdict = "unreachable" if req is None else req.verdict
    if req is not None:
        low, high = req.low, req.high
        if req.n is not None:
            n = req.n
    if verdict == "reached":  # this strategy's noisier labels reach it with what you hold
        verdict = "reachable"
    items = [_whole(v, s.item_share) for v in (n, low, high)]
    to_label = [max(v - have, 0.0) if math.isfinite(v) else math.nan for v in items]
    return row | {
        "verdict": verdict,
        "items needed": items[0],
        "items low": items[1],
        "items high": items[2],
        "items to label": to_label[0],
        "money": to_label[0] * per_item,
        "money low": to_label[1] * per_item,
        "money high": to_label[2] * per_item,
        "reachable": math.isfinite(n),
    }


def _curves(
    fit: CurveFit,
    strategies: list[Strategy],
    money: NDArray[np.float64],
    cost: float,
    penalty: float,
    chance: float = 0.0,
) -> pd.DataFrame:
    parts = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExtrapolationWarning)
        for s in strategies:
            items = money / (cost * s.labels_per_item)
            acc = fit.predict(np.maximum(items / s.item_share, 1.0)) - penalty * (
                1.0 - s.label_accuracy
            )
            # the fitted families extrapolate below the smallest measured size, where
            # they can fall under chance or even 0: no classifier is worse than guessing
            acc = np.clip(acc, chance, 1.0)
            parts.append(pd.DataFrame({"strategy": s.name, "money": money, "accuracy": acc}))
    return pd.concat(parts, ignore_index=True)


def pareto_frontier(curves: pd.DataFrame) -> pd.DataFrame:
    """The points of ``curves`` (money, accuracy) that no cheaper point beats."""
    ordered = curves.sort_values(["money", "accuracy"], ascending=[True, False])
    best = ordered["accuracy"].cummax()
    keep = ordered["accuracy"] > best.shift(fill_value=-np.inf)
    return ordered[keep].reset_index(drop=True)
