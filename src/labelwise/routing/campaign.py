"""The campaign runner: serve requests for work from a simulated pool or by replaying
a real crowd's recorded answers until the budget is spent, and record how label
accuracy grows with the money spent.

Requests arrive in batches (annotators drawn at the pool's rates, in random order);
the policy serves each batch on the current state, the answers are drawn from the
annotators' true confusion matrices (or, with a :class:`~labelwise.simulate.ReplayOracle`,
are the item's recorded answers not used yet), and each answer updates its item's
posterior in O(K). Every ``refresh_every`` answers the annotators' confusions are re-estimated
(:meth:`CampaignState.refresh`). Same seed, same trajectory.
"""

from __future__ import annotations

import copy
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from labelwise._validation import check_number, check_random_state
from labelwise.aggregate import BaseAggregator
from labelwise.annotations import Annotations
from labelwise.errors import InputError, ParameterError
from labelwise.routing._state import CampaignState
from labelwise.routing.policies import RoutingPolicy, _ConfidenceStop
from labelwise.routing.stop_claim import StopClaim
from labelwise.simulate import AnnotatorPool, sample_answers
from labelwise.simulate.replay import ReplayOracle

__all__ = ["Budget", "CampaignResult", "Trajectory", "run_campaign"]


@dataclass(frozen=True)
class Budget:
    """A limit on a campaign: number of answers, money, or both (None = no limit)."""

    annotations: int | None = None
    money: float | None = None

    def __post_init__(self) -> None:
        if self.annotations is not None:
            check_number(self.annotations, "annotations", "Budget", kind=int, low=0)
        if self.money is not None:
            check_number(self.money, "money", "Budget", low=0)


@dataclass(frozen=True)
class Trajectory:
    """A campaign's curve, one row per record point.

    ``annotations`` and ``money`` spent (gold answers included), label ``accuracy``
    against the truth on the non-gold items, ``finished`` items (the policy asks no
    more of them), and ``n_items`` evaluated.
    """

    annotations: NDArray[np.int64]
    money: NDArray[np.float64]
    accuracy: NDArray[np.float64]
    finished: NDArray[np.int64]
    n_items: int

    @property
    def per_item(self) -> NDArray[np.float64]:
        """Annotations spent per evaluated item."""
        return self.annotations / self.n_items  # type: ignore[no-any-return]

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "annotations": self.annotations,
                "per_item": self.per_item,
                "money": self.money,
                "accuracy": self.accuracy,
                "finished": self.finished,
            }
        )

    def per_item_to_reach(self, accuracy: float) -> float:
        """Annotations per item at the first record point with at least ``accuracy``
        (NaN if never reached)."""
        hit = np.flatnonzero(self.accuracy >= accuracy)
        return float(self.per_item[hit[0]]) if hit.size else float("nan")


@dataclass(frozen=True)
class CampaignResult:
    """What a campaign produced: the curve, the final labels and what was collected."""

    trajectory: Trajectory
    labels: NDArray[np.int64]
    proba: NDArray[np.float64]
    annotations: Annotations
    answers_per_item: NDArray[np.int64]
    blocked: NDArray[np.int64]
    confusion: NDArray[np.float64]
    stop_reason: str
    claim: StopClaim | None = None

    @property
    def accuracy(self) -> float:
        return float(self.trajectory.accuracy[-1])


def _claim(policy: Any, state: CampaignState) -> StopClaim | None:
    """The stop rule's claim for a confidence-stop policy (found through wrappers)."""
    while policy is not None:
        if isinstance(policy, _ConfidenceStop):
            return state.stop_claim(policy.target, policy.min_answers)
        policy = getattr(policy, "policy", None)
    return None


def _labels(
    state: CampaignState, aggregator: Any, tie_keys: NDArray[np.float64]
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    if isinstance(aggregator, BaseAggregator):
        if state.n_collected == 0:  # nothing to fit yet: a random guess per item
            return tie_keys.argmax(axis=1), np.full(tie_keys.shape, 1.0 / tie_keys.shape[1])
        with warnings.catch_warnings():
            # early record points may have no overlap yet; the curve shows the result
            warnings.simplefilter("ignore")
            fitted = aggregator.fit(state.annotations(), gold=state.gold.astype(np.int32))
        proba = np.asarray(fitted.proba_, dtype=np.float64)
        return (proba + tie_keys * 1e-9).argmax(axis=1), proba
    if aggregator == "majority":
        votes = state.votes + tie_keys * 0.5  # random tie-break, fixed per seed
        votes[state.gold >= 0] += np.eye(state.n_classes)[state.gold[state.gold >= 0]] * 1e6
        proba = state.votes / np.maximum(state.votes.sum(axis=1, keepdims=True), 1)
        return votes.argmax(axis=1), proba
    if aggregator == "online_calibrated":
        proba = state.posterior(calibrated=True)
        return proba.argmax(axis=1), proba
    return state.post.argmax(axis=1), state.post.copy()


def _check(
    items: ArrayLike, annotators: Any, policy: Any, aggregator: Any, budget: Any
) -> tuple[NDArray[np.int64], Budget]:
    truth = np.asarray(items)
    if truth.ndim != 1 or truth.size == 0 or truth.dtype.kind not in "iu":
        raise InputError(
            "items must be a non-empty 1-D array of true class codes; "
            f"got {truth.dtype} of shape {truth.shape}."
        )
    if not isinstance(annotators, AnnotatorPool | ReplayOracle):
        raise InputError(
            "annotators must be an AnnotatorPool or a ReplayOracle; "
            f"got {type(annotators).__name__}."
        )
    k = annotators.n_classes
    replay = isinstance(annotators, ReplayOracle)
    if isinstance(annotators, ReplayOracle) and truth.shape[0] != annotators.n_items:
        raise InputError(
            f"items must give the true class of each of the replayed {annotators.n_items} "
            f"items (-1 where unknown); got {truth.shape[0]}."
        )
    low = -1 if replay else 0  # replay: items without a known truth are routed, not scored
    if truth.min() < low or truth.max() >= k:
        bad = int(np.flatnonzero((truth < low) | (truth >= k))[0])
        raise InputError(f"items[{bad}] = {truth[bad]} is not a class code in 0..{k - 1}.")
    if not isinstance(policy, RoutingPolicy):
        raise InputError(f"policy must be a RoutingPolicy; got {type(policy).__name__}.")
    policy._check_params()
    if not (
        isinstance(aggregator, BaseAggregator)
        or aggregator in ("online", "online_calibrated", "majority")
    ):
        raise ParameterError(
            "aggregator must be 'online', 'online_calibrated', 'majority' or a labelwise "
            "aggregator; "
            f"got {aggregator!r}."
        )
    if budget is None:
        budget = Budget()
    elif not isinstance(budget, Budget):
        budget = Budget(annotations=budget)
    return truth.astype(np.int64), budget


def run_campaign(
    items: ArrayLike,
    annotators: AnnotatorPool | ReplayOracle,
    policy: RoutingPolicy,
    aggregator: str | BaseAggregator = "online",
    budget: Budget | int | None = None,
    *,
    features: ArrayLike | None = None,
    batch_size: int = 32,
    refresh_every: int | None = None,
    record_every: int | None = None,
    em_iter: int = 2,
    stop_accuracy: float | None = None,
    known_skills: bool = False,
    prior_accuracy: float = 0.7,
    max_idle: int = 20,
    calibrate: str = "auto",
    answer_as: ArrayLike | None = None,
    random_state: Any = None,
) -> CampaignResult:
    """Run a labeling campaign (simulated or replayed) and record its trajectory.

    Parameters
    ----------
    items : array of int (n_items,)
        True class of each item (the simulator answers from it; the policy never sees it).
        With a replay oracle, ``-1`` marks items without a known truth: they are routed
        and answered but left out of the accuracy.
    annotators : AnnotatorPool or ReplayOracle
        A pool: who comes (at ``rates``), how they err, what they cost. A replay
        oracle: requests come from the real annotators in proportion to their unused
        answers; each item the policy picks gets the requester's own recorded answer
        when they gave one, else the item's next unused recorded answer (by whoever
        gave it); items with none left get no more. The oracle is copied, so one
        oracle serves many campaigns alike.
    policy : RoutingPolicy
        Which item each request gets, and when items are finished.
    aggregator : 'online', 'online_calibrated', 'majority' or an aggregator
        How labels are read at each record point: the campaign's own posterior
        ('online', Dawid-Skene updated incrementally), the same read with its
        confidence checked against the gold ('online_calibrated',
        :meth:`CampaignState.posterior`; as 'online' without the gold calibration),
        raw majority vote (ties broken at random), or any labelwise aggregator
        refitted on what was collected.
    budget : Budget, int or None
        Answers (an int) or money never to exceed; None runs until the policy
        finishes every item.
    features : array (n_items, d), optional
        For :class:`~labelwise.routing.ModelAssisted`.
    batch_size : int
        Requests served on the same state (annotators working at the same time).
    refresh_every : int, optional
        Answers between re-estimations of the annotators (default ``n_items // 20``, at least 50).
    record_every : int, optional
        Answers between record points (default ``n_items // 20``, at least 1).
    em_iter : int
        EM iterations per re-estimation.
    stop_accuracy : float, optional
        Stop once the label accuracy reaches this (for benchmarks).
    known_skills : bool
        Give the campaign the annotators' true confusion matrices instead of
        estimating them.
    prior_accuracy : float
        Accuracy a newcomer is assumed to have (see :class:`CampaignState`).
    max_idle : int
        Stop after this many batches in a row in which nobody could be served.
    calibrate : {"auto", "gold", "answers", "none"}
        How the campaign's posterior (and so the stop rule) is calibrated at each
        re-estimation; see :class:`CampaignState`. ``"none"``: the raw posterior.
    answer_as : array of int (n_items,), optional
        Simulated pools only: the class each item *looks like* to the annotators
        (default: its true class). An item answered as another class is one on which
        the crowd agrees in its error, as real crowds do on misleading items; the
        accuracy is still scored against ``items``.

    Returns
    -------
    CampaignResult
        ``stop_reason`` is ``"budget"``, ``"finished"``, ``"accuracy"``, ``"no annotator"``
        or (replay) ``"exhausted"``: the items still open have no recorded answer left.
    """
    from threadpoolctl import threadpool_limits

    # every product here is small (one batch, one refit): BLAS threads only contend,
    # and on a loaded machine they made a 900 x 64 logistic regression 200x slower
    with threadpool_limits(limits=1, user_api="blas"):
        return _run(
            items, annotators, policy, aggregator, budget, features=features,
            batch_size=batch_size, refresh_every=refresh_every, record_every=record_every,
            em_iter=em_iter, stop_accuracy=stop_accuracy, known_skills=known_skills,
            prior_accuracy=prior_accuracy, max_idle=max_idle, calibrate=calibrate,
            answer_as=answer_as, random_state=random_state,
        )  # fmt: skip


def _run(
    items: ArrayLike,
    annotators: AnnotatorPool | ReplayOracle,
    policy: RoutingPolicy,
    aggregator: str | BaseAggregator,
    budget: Budget | int | None,
    *,
    features: ArrayLike | None,
    batch_size: int,
    refresh_every: int | None,
    record_every: int | None,
    em_iter: int,
    stop_accuracy: float | None,
    known_skills: bool,
    prior_accuracy: float,
    max_idle: int,
    calibrate: str,
    answer_as: ArrayLike | None,
    random_state: Any,
) -> CampaignResult:
    truth, budget = _check(items, annotators, policy, aggregator, budget)
    seen_as = truth
    if answer_as is not None:
        seen_as = np.asarray(answer_as, dtype=np.int64)
        if (
            seen_as.shape != truth.shape
            or seen_as.min() < 0
            or seen_as.max() >= annotators.n_classes
        ):
            raise InputError(
                f"answer_as must hold one class code in 0..{annotators.n_classes - 1} per item "
                f"({truth.shape[0]}); got shape {seen_as.shape}."
            )
    name = "run_campaign"
    check_number(batch_size, "batch_size", name, kind=int, low=1)
    check_number(em_iter, "em_iter", name, kind=int, low=1)
    check_number(max_idle, "max_idle", name, kind=int, low=1)
    if stop_accuracy is not None:
        check_number(stop_accuracy, "stop_accuracy", name, low=0, high=1)
    n = truth.shape[0]
    refresh_every = refresh_every if refresh_every is not None else max(50, n // 20)
    record_every = record_every if record_every is not None else max(1, n // 20)
    check_number(refresh_every, "refresh_every", name, kind=int, low=1)
    check_number(record_every, "record_every", name, kind=int, low=1)
    # hashed through a SeedSequence: a simulator seeded with the same number (a test bed
    # made with random_state=0) must not share its stream (the item folds of model-
    # assisted routing once came out correlated with the truth that way)
    rng = np.random.default_rng([int(check_random_state(random_state).integers(2**63)), 0x6C77])
    pool = annotators
    oracle = copy.deepcopy(pool) if isinstance(pool, ReplayOracle) else None
    sim = pool if isinstance(pool, AnnotatorPool) else None
    if oracle is not None and known_skills:
        raise ParameterError(
            "known_skills=True needs a simulated pool; a replay has no true skills."
        )
    if policy.max_answers > pool.n_workers:
        raise ParameterError(
            f"policy {policy!r} may ask {policy.max_answers} distinct annotators per item but "
            f"the pool has only {pool.n_workers}."
        )
    state = CampaignState(
        n, pool.n_workers, pool.n_classes,
        max_answers=policy.max_answers, prior_accuracy=prior_accuracy, features=features,
        known_confusions=sim.confusions if known_skills and sim is not None else None,
        calibrate=calibrate,
        random_state=rng,
    )  # fmt: skip
    policy.bind(state)
    tie_keys = rng.random((n, pool.n_classes))
    evaluated = (state.gold < 0) & (truth >= 0)
    n_eval = int(evaluated.sum())
    rows: list[tuple[int, float, float, int]] = []

    def record() -> float:
        labels, _ = _labels(state, aggregator, tie_keys)
        acc = float((labels[evaluated] == truth[evaluated]).mean()) if n_eval else 1.0
        finished = int((~policy.is_open(state) & evaluated).sum())
        rows.append((state.n_collected, spent_money, acc, finished))
        return acc

    spent_money = 0.0
    costs = sim.costs if sim is not None else np.ones(pool.n_workers)
    next_refresh, next_record = refresh_every, record_every
    idle, reason = 0, "budget"
    acc = record()
    while True:
        if oracle is not None:
            state.exhausted |= oracle.exhausted
            rates = oracle.remaining_per_worker.astype(np.float64)
        elif sim is not None:
            rates = sim.rates
        left_ann = np.inf if budget.annotations is None else budget.annotations - state.n_collected
        left_money = np.inf if budget.money is None else budget.money - spent_money
        if (
            left_ann <= 0
            or left_money <= 1e-12
            or (
                np.isfinite(left_money)
                and (costs[rates > 0].min(initial=np.inf) > left_money + 1e-12)
            )
        ):
            reason = "budget"
            break
        if stop_accuracy is not None and acc >= stop_accuracy:
            reason = "accuracy"
            break
        wanting = policy.is_open(state) & (state.gold < 0)
        if not wanting.any():
            reason = "finished"
            break
        if not (wanting & ~state.exhausted).any():
            reason = "exhausted"
            break
        live = rates * ~state.blocked
        if live.sum() <= 0:
            reason = "no annotator"
            break
        b = int(min(batch_size, left_ann))
        workers = rng.choice(pool.n_workers, size=b, p=live / live.sum())
        got = policy.next_tasks(workers, state)
        served = got >= 0
        if not served.any():
            idle += 1
            if idle >= max_idle:
                reason = "no annotator"
                break
            continue
        idle = 0
        w, it = workers[served], got[served]
        regular = it[state.gold[it] < 0]
        if np.unique(regular).size != regular.size:
            raise InputError(
                f"policy {policy!r} gave the same item to two requests of one batch; "
                "next_tasks must return distinct regular items."
            )
        if oracle is not None:
            w, labels, price = oracle.serve(it, w, exclude=state.blocked)
            got_one = w >= 0
            # none left from an annotator still allowed: the item can get no more
            state.exhausted[it[~got_one]] = True
            w, it, labels, price = w[got_one], it[got_one], labels[got_one], price[got_one]
        else:
            labels, price = np.zeros(0, dtype=np.int64), costs[w]
        affordable = np.cumsum(price) <= left_money + 1e-9
        if not affordable.all():
            stop = int(np.argmin(affordable))
            w, it, price = w[:stop], it[:stop], price[:stop]
            labels = labels[:stop] if oracle is not None else labels
        spent_money += float(price.sum())
        if sim is not None:
            labels = sample_answers(sim.confusions, w, seen_as[it], rng)
        state.record(it, w, labels)
        if state.n_collected >= next_refresh:
            state.refresh(em_iter)
            policy.on_refresh(state)
            next_refresh = state.n_collected + refresh_every
        if state.n_collected >= next_record:
            acc = record()
            next_record = state.n_collected + record_every
    if not rows or rows[-1][0] != state.n_collected:
        record()
    labels, proba = _labels(state, aggregator, tie_keys)
    traj = Trajectory(
        annotations=np.asarray([r[0] for r in rows], dtype=np.int64),
        money=np.asarray([r[1] for r in rows], dtype=np.float64),
        accuracy=np.asarray([r[2] for r in rows], dtype=np.float64),
        finished=np.asarray([r[3] for r in rows], dtype=np.int64),
        n_items=n_eval,
    )
    return CampaignResult(
        trajectory=traj,
        labels=labels,
        proba=proba,
        annotations=state.annotations(),
        answers_per_item=state.n_answers.copy(),
        blocked=np.flatnonzero(state.blocked),
        confusion=state.confusion_estimate(),
        stop_reason=reason,
        claim=_claim(policy, state),
    )
