"""Routing policies: which item the annotator who asks for work gets next.

Every policy answers ``next_task(annotator, state) -> item or None`` for the live
service and ``next_tasks(annotators, state)`` for a batch of requests served on the
same state (as when many annotators work at once; the campaign runner uses it).
A policy holds only its hyper-parameters; everything it learns lives in the
:class:`~labelwise.routing.CampaignState`, so one policy object can serve many
campaigns.

A policy is three pure pieces over the state: which items are still open
(:meth:`RoutingPolicy.is_open`, the stopping rule), a worker-independent priority
that picks a short list of candidates, and optionally a per-annotator score over the
short list (information gain). The matching gives each annotator of a batch a
distinct item that they have not answered yet.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np
from numpy.typing import NDArray

from labelwise._validation import check_number
from labelwise.errors import InputError
from labelwise.routing._state import CampaignState

__all__ = [
    "DynamicOverlap",
    "FixedOverlap",
    "InformationGain",
    "RandomRouting",
    "RoutingPolicy",
    "UncertaintyRouting",
    "expected_information_gain",
]


class RoutingPolicy(ABC):
    """Base of the routing policies. Subclasses set :attr:`max_answers` and override
    :meth:`is_open`, :meth:`priority` and, optionally, :meth:`worker_scores`."""

    max_answers: int = 1
    #: how many candidates per request the short list holds
    shortlist: float = 4.0

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({params})"

    def _check_params(self) -> None:  # noqa: B027 - an optional hook, not abstract
        """Validate hyper-parameters; subclasses override."""

    def bind(self, state: CampaignState) -> None:
        """Prepare ``state`` for this policy (gold items, folds); called once per campaign."""
        self._check_params()

    def on_refresh(self, state: CampaignState) -> None:  # noqa: B027 - an optional hook
        """Called after each re-estimation of the annotators' confusions."""

    @abstractmethod
    def is_open(self, state: CampaignState) -> NDArray[np.bool_]:
        """Items that still want answers, shape (n_items,)."""
        ...

    @abstractmethod
    def priority(self, state: CampaignState) -> NDArray[np.float64]:
        """Worker-independent priority of every item (higher is served first)."""
        ...

    def worker_scores(
        self, workers: NDArray[np.int64], candidates: NDArray[np.int64], state: CampaignState
    ) -> NDArray[np.float64] | None:
        """Per-annotator scores of the short list, shape (B, M); None = use the priority."""
        return None

    # ---------------------------------------------------------------- serving
    def next_task(self, annotator: int, state: CampaignState) -> int | None:
        """The item to give ``annotator`` now, or None (nothing left for them, or blocked)."""
        if not (isinstance(annotator, int | np.integer) and 0 <= annotator < state.n_workers):
            raise InputError(
                f"annotator must be an annotator code in 0..{state.n_workers - 1}; "
                f"got {annotator!r}."
            )
        out = self.next_tasks(np.asarray([annotator], dtype=np.int64), state)
        return None if out[0] < 0 else int(out[0])

    def next_tasks(self, workers: NDArray[np.int64], state: CampaignState) -> NDArray[np.int64]:
        """One item per request in ``workers`` (in arrival order), ``-1`` for none.

        Items are distinct within the batch; nobody gets an item twice.
        """
        workers = np.asarray(workers, dtype=np.int64)
        out = np.full(workers.shape[0], -1, dtype=np.int64)
        ok = ~state.blocked[workers]
        if not ok.any():
            return out
        open_ = (
            self.is_open(state)
            & (state.gold < 0)
            & (state.n_answers < state.max_answers)
            & ~state.exhausted
        )
        idx = np.flatnonzero(open_)
        if idx.size == 0:
            return out
        b = int(ok.sum())
        pr = self.priority(state)[idx] + 1e-9 * state.rng.random(idx.size)
        m = min(idx.size, int(self.shortlist * b) + state.max_answers + 4)
        top = np.argpartition(-pr, m - 1)[:m] if m < idx.size else np.arange(idx.size)
        top = top[np.argsort(-pr[top], kind="stable")]
        cand = idx[top]
        active = workers[ok]
        scores = self.worker_scores(active, cand, state)
        if scores is None:
            out[ok] = _match_in_order(active, cand, state)
        else:
            scores[state.has_answered(cand, active)] = -np.inf
            out[ok] = _match(scores, cand, active, state)
        return out


def _first_free(
    worker: int, cand: NDArray[np.int64], taken: NDArray[np.bool_], state: CampaignState
) -> int:
    """Position of the first candidate not taken and not yet answered by ``worker``, or -1."""
    free = ~taken & ~(state.answered_by[cand] == worker).any(axis=1)
    pos = np.flatnonzero(free)
    return int(pos[0]) if pos.size else -1


def _match_in_order(
    workers: NDArray[np.int64], cand: NDArray[np.int64], state: CampaignState
) -> NDArray[np.int64]:
    """Candidates in priority order to annotators in arrival order, skipping items an
    annotator has already answered (rare: only those few are matched one by one)."""
    b = workers.shape[0]
    head = min(b, cand.shape[0])
    out = np.full(b, -1, dtype=np.int64)
    out[:head] = cand[:head]
    clash = np.zeros(b, dtype=bool)
    clash[:head] = (state.answered_by[cand[:head]] == workers[:head, None]).any(axis=1)
    clash[head:] = True
    if clash.any():
        taken = np.zeros(cand.shape[0], dtype=bool)
        taken[np.flatnonzero(~clash)] = True
        out[clash] = -1
        for j in np.flatnonzero(clash):
            pos = _first_free(int(workers[j]), cand, taken, state)
            if pos >= 0:
                taken[pos] = True
                out[j] = cand[pos]
    return out


def _match(
    scores: NDArray[np.float64],
    cand: NDArray[np.int64],
    workers: NDArray[np.int64],
    state: CampaignState,
    rounds: int = 6,
) -> NDArray[np.int64]:
    """Give each row (an annotator) a high-scoring column (item) no other row got;
    ``-inf`` marks forbidden pairs.

    Vectorised in ``rounds`` rounds: every unserved row proposes its best free column
    and, for each column, the proposer that scores it highest wins. Rows still
    unserved after that take the free columns in priority order.
    """
    b, m = scores.shape
    out = np.full(b, -1, dtype=np.int64)
    taken = np.zeros(m, dtype=bool)
    pending = np.arange(b)
    for _ in range(rounds):
        if pending.size == 0:
            break
        s = scores[pending]
        s[:, taken] = -np.inf
        best = s.argmax(axis=1)
        val = s[np.arange(pending.size), best]
        feasible = np.isfinite(val)
        pending, best, val = pending[feasible], best[feasible], val[feasible]
        if pending.size == 0:
            break
        order = np.lexsort((-val, best))  # by column, best score first
        cols, first = np.unique(best[order], return_index=True)
        winners = pending[order[first]]
        out[winners] = cand[cols]
        taken[cols] = True
        pending = np.setdiff1d(pending, winners, assume_unique=True)
    for j in pending:
        pos = _first_free(int(workers[j]), cand, taken, state)
        if pos >= 0:
            taken[pos] = True
            out[j] = cand[pos]
    return out


class FixedOverlap(RoutingPolicy):
    """Every item gets exactly ``k`` answers from distinct annotators (common practice).

    Items are served breadth-first (fewest answers first), so after ``j * n_items``
    answers every item has ``j``: the campaign's curve is majority vote at overlap j.
    """

    def __init__(self, k: int = 3):
        self.k = k

    def _check_params(self) -> None:
        check_number(self.k, "k", "FixedOverlap", kind=int, low=1)

    @property
    def max_answers(self) -> int:  # type: ignore[override]
        return int(self.k)

    def is_open(self, state: CampaignState) -> NDArray[np.bool_]:
        return state.n_answers < self.k  # type: ignore[no-any-return]

    def priority(self, state: CampaignState) -> NDArray[np.float64]:
        return -state.n_answers.astype(np.float64)  # type: ignore[no-any-return]


class _ConfidenceStop(RoutingPolicy):
    """Stopping rule shared by the adaptive policies: an item is finished when its
    posterior's top class reaches ``target`` (after ``min_answers``) or it has ``cap``
    answers."""

    def __init__(self, target: float = 0.99, cap: int = 10, min_answers: int = 1):
        self.target = target
        self.cap = cap
        self.min_answers = min_answers

    def _check_params(self) -> None:
        name = type(self).__name__
        check_number(self.target, "target", name, low=0, high=1, low_open=True, high_open=True)
        check_number(self.cap, "cap", name, kind=int, low=1)
        check_number(self.min_answers, "min_answers", name, kind=int, low=0, high=self.cap)

    @property
    def max_answers(self) -> int:  # type: ignore[override]
        return int(self.cap)

    def is_open(self, state: CampaignState) -> NDArray[np.bool_]:
        n = state.n_answers
        # with gold, the threshold is raised until the gold items it finishes are
        # right ``target`` of the time (CampaignState.stop_claim)
        threshold = state.stop_threshold(self.target, self.min_answers)
        return (n < self.min_answers) | ((state.confidence < threshold) & (n < self.cap))  # type: ignore[no-any-return]


class DynamicOverlap(_ConfidenceStop):
    """Ask until the item's posterior is confident enough, as in Lean crowdsourcing.

    The posterior counts each answer through the annotator's estimated confusion
    matrix, so one answer from a proven annotator can finish an item while a
    newcomer's needs a second opinion. Items are served breadth-first: fewest
    answers first, then the least confident.

    Parameters
    ----------
    target : float in (0, 1)
        Posterior probability of the top class at which an item is finished.
    cap : int
        Most answers any item gets.
    min_answers : int
        Answers every item gets before the confidence rule may finish it.
    """

    def priority(self, state: CampaignState) -> NDArray[np.float64]:
        return -state.n_answers - state.confidence  # type: ignore[no-any-return]


class RandomRouting(_ConfidenceStop):
    """Serve a random open item (the "random assignment" baseline of the
    task-assignment literature). Same stopping rule as :class:`DynamicOverlap`."""

    def priority(self, state: CampaignState) -> NDArray[np.float64]:
        return state.rng.random(state.n_items)  # type: ignore[no-any-return]


class UncertaintyRouting(_ConfidenceStop):
    """Serve the open item whose posterior is most uncertain (highest entropy).

    Same stopping rule as :class:`DynamicOverlap`.
    """

    def priority(self, state: CampaignState) -> NDArray[np.float64]:
        return state.entropy  # type: ignore[no-any-return]


def expected_information_gain(
    post: NDArray[np.float64], confusions: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Mutual information (nats) between an item's label and one annotator's answer.

    ``I(y; a) = H(sum_k p_k C[k]) - sum_k p_k H(C[k])`` for posterior ``p`` (M, K)
    and confusion matrices ``confusions`` (B, K, K); returns (B, M). An annotator
    whose confusion rows are flat (a spammer, or a newcomer whose estimate is still
    the prior) gains little; a sharp one gains up to ``H(p)``.
    """
    from scipy.special import entr

    h_answer = entr(np.matmul(post[None], confusions)).sum(axis=2)
    h_rows = entr(confusions).sum(axis=2)
    return h_answer - h_rows @ post.T  # type: ignore[no-any-return]


class InformationGain(_ConfidenceStop):
    """Serve each annotator the item their answer is expected to tell most about.

    BALD-style: the score is the mutual information between the item's label and
    this annotator's answer (:func:`expected_information_gain`), computed with the
    annotator's current confusion estimate (the Dirichlet posterior mean, so what is
    not yet known of a newcomer's skill flattens their matrix and lowers the gain).
    A short list of the most uncertain open items is scored per annotator. Same
    stopping rule as :class:`DynamicOverlap`.
    """

    # the per-annotator scores cost B x M x K^2; a short list of 1.5 per request keeps
    # a batch of 256 requests to about 10 ms
    shortlist = 1.5

    def priority(self, state: CampaignState) -> NDArray[np.float64]:
        return state.entropy  # type: ignore[no-any-return]

    def worker_scores(
        self, workers: NDArray[np.int64], candidates: NDArray[np.int64], state: CampaignState
    ) -> NDArray[np.float64]:
        uniq, inv = np.unique(workers, return_inverse=True)
        gain = expected_information_gain(state.post[candidates], np.exp(state.log_conf[uniq]))
        return gain[inv]  # type: ignore[no-any-return]
