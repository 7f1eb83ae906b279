"""Gold questions: known-answer items mixed into the work, and a skill floor.

A newcomer gets a gold item with probability ``new_rate`` for their first
``n_new`` answers, everyone else with probability ``rate``. Once an annotator has
answered ``min_gold`` gold items, their accuracy on them (a Beta posterior mean) is
their skill estimate; below ``skill_floor`` they are blocked and get no more work.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labelwise._validation import check_number
from labelwise.errors import InputError
from labelwise.routing._state import CampaignState
from labelwise.routing.policies import RoutingPolicy

__all__ = ["GoldQuestions", "gold_skill"]


def gold_skill(
    correct: ArrayLike, answered: ArrayLike, *, a: float = 1.0, b: float = 1.0
) -> NDArray[np.float64]:
    """Beta(a, b) posterior mean of the accuracy on gold: ``(correct + a) / (answered + a + b)``."""
    c = np.asarray(correct, dtype=np.float64)
    n = np.asarray(answered, dtype=np.float64)
    return (c + a) / (n + a + b)  # type: ignore[no-any-return]


class GoldQuestions(RoutingPolicy):
    """Wrap a policy with gold-question injection and a skill floor.

    Parameters
    ----------
    policy : RoutingPolicy
        Serves every request that does not get a gold item.
    gold_items : array of int
        Items whose answer is known (excluded from regular routing and from accuracy).
    gold_labels : array of int
        Their class codes.
    new_rate, rate : float in [0, 1]
        Probability of a gold item for a newcomer / for an annotator past ``n_new``.
    n_new : int
        Answers after which an annotator is no longer new.
    skill_floor : float in [0, 1)
        Block an annotator whose gold accuracy estimate falls below this.
    min_gold : int
        Gold answers needed before the floor applies.
    audit : float in [0, 1)
        Share of the gold items held back as *audit items*: routed, answered and
        aggregated as regular items (no gold question, no clamping, counted in the
        campaign), their known class used only to state the stop rule's claim
        (``CampaignResult.claim.source == "audit"``). The gold items replayed to pick
        the threshold are not the items the rule finishes; audit items are. Measured
        on six real crowds (benchmarks/RESULTS.md, "Calibration and replay, round 3").
    """

    def __init__(
        self,
        policy: RoutingPolicy,
        gold_items: ArrayLike,
        gold_labels: ArrayLike,
        *,
        new_rate: float = 0.5,
        rate: float = 0.05,
        n_new: int = 10,
        skill_floor: float = 0.5,
        min_gold: int = 4,
        audit: float = 0.0,
    ):
        self.policy = policy
        self.gold_items = gold_items
        self.gold_labels = gold_labels
        self.new_rate = new_rate
        self.rate = rate
        self.n_new = n_new
        self.skill_floor = skill_floor
        self.min_gold = min_gold
        self.audit = audit

    def _check_params(self) -> None:
        name = "GoldQuestions"
        if not isinstance(self.policy, RoutingPolicy):
            raise InputError(
                f"GoldQuestions wraps a RoutingPolicy; got {type(self.policy).__name__}."
            )
        check_number(self.new_rate, "new_rate", name, low=0, high=1)
        check_number(self.rate, "rate", name, low=0, high=1)
        check_number(self.n_new, "n_new", name, kind=int, low=0)
        check_number(self.skill_floor, "skill_floor", name, low=0, high=1, high_open=True)
        check_number(self.min_gold, "min_gold", name, kind=int, low=1)
        check_number(self.audit, "audit", name, low=0, high=1, high_open=True)

    @property
    def max_answers(self) -> int:  # type: ignore[override]
        return self.policy.max_answers

    def bind(self, state: CampaignState) -> None:
        self._check_params()
        items = np.asarray(self.gold_items, dtype=np.int64).reshape(-1)
        labels = np.asarray(self.gold_labels, dtype=np.int64).reshape(-1)
        if items.shape != labels.shape or items.size == 0:
            raise InputError(
                f"gold_items and gold_labels must be non-empty and of equal length; "
                f"got {items.size} and {labels.size}."
            )
        if items.min() < 0 or items.max() >= state.n_items or np.unique(items).size != items.size:
            raise InputError(f"gold_items must be distinct item codes in 0..{state.n_items - 1}.")
        if labels.min() < 0 or labels.max() >= state.n_classes:
            raise InputError(f"gold_labels must be class codes in 0..{state.n_classes - 1}.")
        n_audit = round(self.audit * items.size)
        if n_audit >= items.size:
            raise InputError(
                f"audit={self.audit} would hold back all {items.size} gold items; at least "
                "one must be served as a gold question."
            )
        if n_audit:
            held = np.zeros(items.size, dtype=bool)
            held[state.rng.permutation(items.size)[:n_audit]] = True
            state.set_audit(items[held], labels[held])
            items, labels = items[~held], labels[~held]
        state.set_gold(items, labels)
        self.policy.bind(state)

    def on_refresh(self, state: CampaignState) -> None:
        self.policy.on_refresh(state)

    def is_open(self, state: CampaignState) -> NDArray[np.bool_]:
        return self.policy.is_open(state)

    def priority(self, state: CampaignState) -> NDArray[np.float64]:
        return self.policy.priority(state)

    def next_tasks(self, workers: NDArray[np.int64], state: CampaignState) -> NDArray[np.int64]:
        workers = np.asarray(workers, dtype=np.int64)
        skill = gold_skill(state.gold_correct, state.gold_answered)
        below = (state.gold_answered >= self.min_gold) & (skill < self.skill_floor)
        state.blocked |= below
        out = np.full(workers.shape[0], -1, dtype=np.int64)
        ok = ~state.blocked[workers]
        new = state.worker_answers[workers] < self.n_new
        want = ok & (state.rng.random(workers.shape[0]) < np.where(new, self.new_rate, self.rate))
        if want.any():
            gold_items = np.flatnonzero(state.gold >= 0)
            gold_items = gold_items[np.argsort(state.gold_col[gold_items])]
            wanted = workers[want]
            keys = state.rng.random((wanted.shape[0], gold_items.shape[0]))
            keys[state.gold_seen[wanted]] = -1.0
            keys[:, state.exhausted[gold_items]] = -1.0
            pick = keys.argmax(axis=1)
            has = keys[np.arange(wanted.shape[0]), pick] >= 0
            # several annotators of a batch may see the same gold item; gold answers
            # do not take a regular slot
            got = np.where(has, gold_items[pick], -1)
            out[want] = got
        regular = ok & (out < 0)
        if regular.any():
            out[regular] = self.policy.next_tasks(workers[regular], state)
        return out
