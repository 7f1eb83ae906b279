"""Live state of a project for the admin page: progress, agreement, annotators, the
least confident items and the estimated cost to finish.

Consensus and confidence are the routing cache's online Dawid-Skene posterior
(:class:`~labelwise.routing.CampaignState`), so the page costs no refit. The cost to
finish comes from the scaling planner's simulation of dynamic overlap
(:func:`labelwise.scaling.budget.dynamic_overlap_quality`) at the crowd's current
estimated accuracy, or from the fixed overlap itself.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
from sqlalchemy import Connection, func, select

from labelwise.routing import FixedOverlap, GoldQuestions, ModelAssisted, gold_skill
from labelwise.routing.policies import RoutingPolicy
from labelwise.scaling.budget import dynamic_overlap_quality
from labelwise.service.db import answers, items, leases, people
from labelwise.service.live import LiveProject

__all__ = ["project_stats"]

#: An annotator with at least this many answers whose estimated skill is within this
#: margin of chance (1/K), or whose gold accuracy is below 0.5, is flagged.
SPAM_MIN_ANSWERS = 10
SPAM_MARGIN = 0.15


def _inner(policy: RoutingPolicy) -> RoutingPolicy:
    while isinstance(policy, GoldQuestions | ModelAssisted):
        policy = policy.policy
    return policy


@lru_cache(maxsize=256)
def _answers_per_item(accuracy: float, n_classes: int, cap: int) -> float:
    """Mean answers per item dynamic overlap needs at this accuracy (planner simulation)."""
    _, per_item = dynamic_overlap_quality(
        accuracy, n_classes, max_labels=min(cap, 20), n_items=2000, random_state=0
    )
    return per_item


def project_stats(
    conn: Connection, p: Any, live: LiveProject, *, lowest: int = 20
) -> dict[str, Any]:
    """Everything the admin page shows, as JSON-ready values. Call with the lock held."""
    st = live.state
    n = int(live.item_ids.size)
    k = len(live.classes)
    classes = live.classes
    regular = st.gold[:n] < 0
    is_open = live.policy.is_open(st)[:n] & regular & (st.n_answers[:n] < st.max_answers)
    n_ans = st.n_answers[:n]
    post = st.post[:n]
    label = post.argmax(axis=1)
    answered = (n_ans > 0) & regular
    skill = st.skill()
    # agreement: share of an item's answers equal to its consensus, over answered items
    votes = st.votes[:n]
    agree = np.where(n_ans > 0, votes[np.arange(n), label] / np.maximum(n_ans, 1), np.nan)
    inner = _inner(live.policy)
    mean_acc = float(
        np.clip(
            np.median(skill[st.worker_answers > 0]) if st.worker_answers.any() else 0.7,
            1.0 / k + 0.05,
            0.99,
        )
    )
    if isinstance(inner, FixedOverlap):
        remaining = float(np.maximum(inner.k - n_ans[regular], 0).sum())
    else:
        per_item = _answers_per_item(round(mean_acc, 2), k, int(st.max_answers))
        remaining = (
            float(np.maximum(per_item - n_ans[is_open], 1.0).sum()) if is_open.any() else 0.0
        )
    durations = dict(
        conn.execute(
            select(answers.c.person_id, func.avg(answers.c.duration_ms))
            .where(answers.c.project_id == live.project_id, answers.c.undone.is_(False))
            .group_by(answers.c.person_id)
        ).all()
    )
    names = dict(conn.execute(select(people.c.id, people.c.name)).all())
    gacc = gold_skill(st.gold_correct, st.gold_answered)
    chance = 1.0 / k
    table = []
    for pid, w in live.person_code.items():
        na = int(st.worker_answers[w])
        flag = (
            bool(st.blocked[w])
            or (na >= SPAM_MIN_ANSWERS and float(skill[w]) < chance + SPAM_MARGIN)
            or (int(st.gold_answered[w]) >= 4 and float(gacc[w]) < 0.5)
        )
        dur = durations.get(pid)
        table.append(
            {
                "annotator": names.get(pid, str(pid)),
                "answers": na,
                "skill": round(float(skill[w]), 4),
                "gold_answered": int(st.gold_answered[w]),
                "gold_accuracy": None
                if st.gold_answered[w] == 0
                else round(float(st.gold_correct[w] / st.gold_answered[w]), 4),
                "seconds_per_answer": None if dur is None else round(float(dur) / 1000, 2),
                "likely_spammer": flag,
            }
        )
    table.sort(key=lambda r: (not r["likely_spammer"], r["skill"]))
    ext = dict(
        conn.execute(
            select(items.c.id, items.c.external_id).where(items.c.project_id == live.project_id)
        ).all()
    )
    cand = np.flatnonzero(answered)
    low = cand[np.argsort(st.confidence[cand], kind="stable")[:lowest]]
    lowest_items = [
        {
            "item_id": int(live.item_ids[c]),
            "external_id": ext.get(int(live.item_ids[c]), ""),
            "consensus": classes[int(label[c])],
            "confidence": round(float(st.confidence[c]), 4),
            "answers": int(n_ans[c]),
            "votes": {classes[j]: int(votes[c, j]) for j in range(k) if votes[c, j]},
        }
        for c in low
    ]
    n_leases = conn.execute(
        select(func.count()).select_from(leases).where(leases.c.project_id == live.project_id)
    ).scalar_one()
    model = {key: v for key, v in live.model.items() if key not in ("proba", "log_prior", "scores")}
    return {
        "project": p.name,
        "policy": p.policy,
        "overlap": int(p.overlap),
        "classes": classes,
        "items": int(regular.sum()),
        "gold_items": int((~regular).sum()),
        "answers": int(n_ans[regular].sum()),
        "gold_answers": int(st.gold_answered.sum()),
        "items_answered": int(answered.sum()),
        "items_done": int((regular & ~is_open).sum()),
        "items_open": int(is_open.sum()),
        "open_leases": int(n_leases),
        "progress": round(float((regular & ~is_open).sum()) / max(1, int(regular.sum())), 4),
        "mean_agreement": None
        if not answered.any()
        else round(float(np.nanmean(agree[answered])), 4),
        "mean_confidence": None
        if not answered.any()
        else round(float(st.confidence[:n][answered].mean()), 4),
        "consensus_counts": {classes[j]: int(((label == j) & answered).sum()) for j in range(k)},
        "crowd_accuracy": round(mean_acc, 4),
        "remaining_answers": round(remaining, 1),
        "cost_to_finish": round(remaining * float(p.cost_per_answer), 2),
        "annotators": table,
        "lowest_confidence": lowest_items,
        "model": model,
    }
