"""The routing cache of one project: a :class:`~labelwise.routing.CampaignState` and
the project's policy object, rebuilt from the database and kept in step with it.

The database is the truth; this is a cache. It is rebuilt from the tables at start-up
and whenever the project's ``version`` moves (an undo, an import, a new annotator), and
otherwise advanced by the answers whose ``seq`` it has not seen yet, whichever server
process committed them. A routing decision made on a cache a moment stale is still
safe: the lease is granted only after the database re-checks the item under a lock.
"""

from __future__ import annotations

import copy
import threading
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Connection, select

from labelwise.routing import CampaignState, GoldQuestions, ModelAssisted, make_policy
from labelwise.routing.policies import RoutingPolicy
from labelwise.service.db import answers, assignments, items, projects, skips

__all__ = ["LiveProject", "build_policy"]


def build_policy(
    name: str,
    params: dict[str, Any],
    overlap: int,
    gold_codes: NDArray[np.int64],
    gold_labels: NDArray[np.int64],
) -> RoutingPolicy:
    """The project's routing policy object, the same one the simulator runs.

    ``overlap`` is the cap of answers per item. When the project has gold items and
    its policy is not ``gold`` already, the policy is wrapped in
    :class:`~labelwise.routing.GoldQuestions` so the gold items get served.
    """
    opts = dict(params)
    target = float(opts.pop("target", 0.99))
    has_gold = gold_codes.size > 0
    if name == "gold" and not has_gold:
        name = "dynamic"  # no gold yet: the same routing without injection
    policy, _ = make_policy(
        name,
        target=target,
        cap=overlap,
        gold_items=gold_codes if has_gold else None,
        gold_labels=gold_labels if has_gold else None,
        **opts,
    )
    if has_gold and not isinstance(policy, GoldQuestions):
        policy = GoldQuestions(policy, gold_codes, gold_labels)
    return policy


def _refresh_hooks(policy: RoutingPolicy, state: CampaignState) -> None:
    """``policy.on_refresh`` except model fitting, which the background worker does
    outside the lock."""
    if isinstance(policy, ModelAssisted | GoldQuestions):
        _refresh_hooks(policy.policy, state)
    else:
        policy.on_refresh(state)


class LiveProject:
    """Routing cache of one project. All access goes through :attr:`lock`."""

    def __init__(self, project_id: int) -> None:
        self.project_id = project_id
        self.lock = threading.RLock()
        self.version = -1
        self.seq = 0
        self.since_refresh = 0
        self.since_model = 0
        self.model: dict[str, Any] = {}
        self.assigned: set[int] = set()
        #: items planned for the next-task requests of the writer's current batch
        #: (person id -> item id; see :meth:`choose_many`), taken by each request
        self.hints: dict[int, int] = {}

    # ------------------------------------------------------------- loading
    def rebuild(self, conn: Connection) -> None:
        """Build everything from the database (call with :attr:`lock` held)."""
        p = conn.execute(select(projects).where(projects.c.id == self.project_id)).one()
        rows = conn.execute(
            select(items.c.id, items.c.gold, items.c.features)
            .where(items.c.project_id == self.project_id)
            .order_by(items.c.id)
        ).all()
        ans = conn.execute(
            select(answers.c.item_id, answers.c.person_id, answers.c.label, answers.c.seq)
            .where(answers.c.project_id == self.project_id, answers.c.undone.is_(False))
            .order_by(answers.c.seq)
        ).all()
        self.assigned = set(
            conn.execute(
                select(assignments.c.person_id).where(assignments.c.project_id == self.project_id)
            ).scalars()
        )
        person_ids = sorted(self.assigned | {a.person_id for a in ans})
        self.classes: list[str] = list(p.classes)
        self.overlap = int(p.overlap)
        self.item_ids = np.asarray([r.id for r in rows], dtype=np.int64)
        self.item_code = {int(r.id): i for i, r in enumerate(rows)}
        self.person_ids = person_ids
        self.person_code = {pid: j for j, pid in enumerate(person_ids)}
        gold = np.asarray([-1 if r.gold is None else r.gold for r in rows], dtype=np.int64)
        gold_codes = np.flatnonzero(gold >= 0)
        feats = [r.features for r in rows]
        features = (
            np.asarray(feats, dtype=np.float64)
            if rows and all(f is not None for f in feats)
            else None
        )
        self.policy = build_policy(
            p.policy, dict(p.policy_params), self.overlap, gold_codes, gold[gold_codes]
        )
        self.state = CampaignState(
            max(1, len(rows)),
            max(1, len(person_ids)),
            len(self.classes),
            max_answers=self.policy.max_answers,
            features=features if features is not None and len(rows) else None,
            random_state=self.project_id,
        )
        if len(rows):
            self.policy.bind(self.state)
        else:
            self.state.n_answers[:] = self.state.max_answers  # no items: nothing is open
        self.skipped: dict[int, set[int]] = {}
        for s in conn.execute(
            select(skips.c.person_id, skips.c.item_id).where(skips.c.project_id == self.project_id)
        ):
            self._note_skip(int(s.person_id), int(s.item_id))
        if ans:
            self.state.record(
                np.asarray([self.item_code[a.item_id] for a in ans], dtype=np.int64),
                np.asarray([self.person_code[a.person_id] for a in ans], dtype=np.int64),
                np.asarray([a.label for a in ans], dtype=np.int64),
            )
            self.state.refresh(n_iter=5)
            _refresh_hooks(self.policy, self.state)
        self.version = int(p.version)
        self.seq = int(p.answer_seq)
        self.since_refresh = 0
        if self.model.get("proba") is not None and self.model["proba"].shape[0] != len(rows):
            self.model = {}
        if self.model.get("log_prior") is not None and isinstance(self.policy, ModelAssisted):
            self.state.set_item_log_prior(self.model["log_prior"])

    def sync(self, conn: Connection, version: int, seq: int) -> None:
        """Catch up with the database: rebuild on a new ``version``, else apply the
        answers committed (by any process) after :attr:`seq`. Call with the lock held."""
        if version != self.version:
            self.rebuild(conn)
            return
        if seq <= self.seq:
            return
        rows = conn.execute(
            select(answers.c.item_id, answers.c.person_id, answers.c.label, answers.c.seq)
            .where(
                answers.c.project_id == self.project_id,
                answers.c.seq > self.seq,
                answers.c.undone.is_(False),
            )
            .order_by(answers.c.seq)
        ).all()
        if any(
            r.person_id not in self.person_code or r.item_id not in self.item_code for r in rows
        ):
            self.rebuild(conn)
            return
        # answers committed after the project row was read may be among the rows:
        # the cache's position is the newest seq it has applied, never less
        top = max([seq, *(int(r.seq) for r in rows)])
        self.apply([(r.item_id, r.person_id, r.label) for r in rows], top)

    def apply(self, new: list[tuple[int, int, int]], seq: int) -> None:
        """Record committed answers ``(item_id, person_id, label)`` up to ``seq``."""
        if new:  # (record counts every answer of a batch that repeats an item)
            self.state.record(
                np.asarray([self.item_code[i] for i, _, _ in new], dtype=np.int64),
                np.asarray([self.person_code[p] for _, p, _ in new], dtype=np.int64),
                np.asarray([lab for _, _, lab in new], dtype=np.int64),
            )
        self.seq = seq
        self.since_refresh += len(new)
        self.since_model += len(new)

    def unapply(self, item_id: int, person_id: int, label: int) -> None:
        """Take one committed answer back out of the state (an undo); lock held."""
        self.state.remove(self.item_code[item_id], self.person_code[person_id], label)

    # ------------------------------------------------------------- routing
    def _note_skip(self, person_id: int, item_id: int) -> None:
        code = self.item_code.get(item_id)
        if code is None:
            return
        self.skipped.setdefault(person_id, set()).add(code)
        w = self.person_code.get(person_id)
        st = self.state
        if w is not None and st.gold[code] >= 0 and st.gold_seen.shape[1]:
            st.gold_seen[w, st.gold_col[code]] = True  # a skipped gold item is not offered again

    def note_skip(self, person_id: int, item_id: int) -> None:
        """Remember that ``person_id`` skipped ``item_id`` (never offered to them again)."""
        self._note_skip(person_id, item_id)

    def choose(
        self, person_id: int, leased_item_ids: list[int], exclude: set[int] | None = None
    ) -> int | None:
        """The item id the project's policy gives ``person_id`` now, or None.

        Items leased to others count as answers pending (so the overlap limit holds
        across open leases); items this person skipped, and ``exclude``, are closed to them.
        """
        w = self.person_code.get(person_id)
        if w is None:
            return None
        st = self.state
        saved = st.n_answers
        view = saved.copy()
        codes = [self.item_code[i] for i in leased_item_ids if i in self.item_code]
        if codes:
            np.add.at(view, np.asarray(codes, dtype=np.int64), 1)
        closed = self.skipped.get(person_id, set()) | {
            self.item_code[i] for i in (exclude or ()) if i in self.item_code
        }
        if closed:
            view[np.fromiter(closed, dtype=np.int64)] = st.max_answers
        st.n_answers = view
        try:
            code = self.policy.next_task(w, st)
        finally:
            st.n_answers = saved
        if code is None or code >= self.item_ids.size:
            return None
        if st.gold[code] >= 0 and code in closed:
            return None
        return int(self.item_ids[code])

    def choose_many(self, person_ids: list[int], leased_item_ids: list[int]) -> dict[int, int]:
        """The items the project's policy gives these people, asking together: one
        evaluation of the policy over all items for the whole group (its
        ``next_tasks``: distinct items, in arrival order), where :meth:`choose` costs
        one per request. People who skipped items are left out (their closed items are
        their own); returns ``{person id: item id}`` for those who get one.
        """
        codes = [self.person_code.get(p) for p in person_ids]
        group = [
            (p, w)
            for p, w in zip(person_ids, codes, strict=True)
            if w is not None and not self.skipped.get(p)
        ]
        if not group:
            return {}
        st = self.state
        saved = st.n_answers
        view = saved.copy()
        leased = [self.item_code[i] for i in leased_item_ids if i in self.item_code]
        if leased:
            np.add.at(view, np.asarray(leased, dtype=np.int64), 1)
        st.n_answers = view
        try:
            picked = self.policy.next_tasks(np.asarray([w for _, w in group], dtype=np.int64), st)
        finally:
            st.n_answers = saved
        n = self.item_ids.size
        pairs = zip(group, picked, strict=True)
        return {p: int(self.item_ids[c]) for (p, _), c in pairs if 0 <= c < n}

    def refresh_due(self, every: int) -> bool:
        """Whether the skills are due for re-estimation: ``every`` new answers, or a
        twentieth of all answers when that is more (each refresh reads every answer, so
        a fixed cadence would cost O(answers) per few answers on a large project)."""
        return self.since_refresh >= max(every, self.state.n_collected // 20)

    def refresh(self) -> None:
        """Re-estimate the annotators' confusions (a few EM steps); lock held."""
        self.state.refresh()
        _refresh_hooks(self.policy, self.state)
        self.since_refresh = 0

    def refresh_off_lock(self, lock: Any) -> bool:
        """Re-estimate the confusions without holding ``lock`` during the EM.

        Under the lock: a detached copy of the state is taken; outside it the copy is
        refreshed (the EM over all answers and the calibration fit, 10-140 ms on a busy
        project, which held every request back when done under the lock); under the
        lock again the result is installed and every posterior recomputed from the
        answers the state holds by then. Skipped when the cache was rebuilt meanwhile.
        Returns whether a refresh was installed.
        """
        with lock:
            state = self.state
            twin = state.detached()
            self.since_refresh = 0
        twin.refresh()
        with lock:
            if self.state is not state:
                return False
            state.install_refresh(twin)
            _refresh_hooks(self.policy, state)
        return True

    def snapshot(self) -> CampaignState:
        """A copy of the state's arrays a background job may read without the lock."""
        snap = copy.copy(self.state)
        for name in ("post", "confidence", "n_answers", "gold", "entropy", "worker_answers"):
            setattr(snap, name, getattr(self.state, name).copy())
        snap.scratch = dict(self.state.scratch)
        return snap
