"""The labeling service's operations: who may do what, next task, answer, skip, undo.

Every operation is one database transaction. The routing cache of a project
(:class:`~labelwise.service.live.LiveProject`) is locked *before* the transaction
begins (never the other way round, so a thread holding SQLite's write lock never waits
for a thread holding the cache), synced to the database inside it, and advanced with
the answer once the transaction has committed.

Guarantees, whatever the number of server processes on one database:

- an item never receives more regular answers than its overlap: the lease is granted
  only after the item row is locked (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite
  has one writer) and ``answers + other live leases < overlap`` re-checked, and the
  answer's ``UPDATE items SET n_answers = n_answers + 1 WHERE n_answers < overlap`` is
  a second, atomic guard;
- one person answers an item once (a partial unique index on live answers);
- a retried answer with the same client key is recorded once (a unique index);
- an acknowledged answer is committed (SQLite ``synchronous=FULL``; PostgreSQL's
  default ``synchronous_commit``), and a lease abandoned by a crash simply expires.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, delete, func, insert, select, update

from labelwise.service import queries as Q
from labelwise.service.auth import (
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    Person,
    Unauthorized,
    hash_token,
    new_token,
)
from labelwise.service.commit import GroupCommit, Op
from labelwise.service.db import (
    Database,
    answers,
    assignments,
    items,
    leases,
    people,
    projects,
    skips,
)
from labelwise.service.live import LiveProject, build_policy
from labelwise.service.schema import ItemIn, ProjectSpec, check_image_path
from labelwise.service.stats import project_stats

__all__ = ["LabelService", "Task"]

_ROUTE_TRIES = 8
#: A verified token is trusted this long without a database lookup.
TOKEN_CACHE_SECONDS = 30.0


@dataclass(frozen=True)
class Task:
    """An item leased to an annotator: what the page shows, and until when it is theirs."""

    item_id: int
    external_id: str
    kind: str
    content: Any
    expires_at: float

    def to_json(self, project: str) -> dict[str, Any]:
        """The JSON body of ``POST /next`` (image content becomes the file's URL)."""
        body: dict[str, Any] = {
            "item_id": self.item_id,
            "external_id": self.external_id,
            "kind": self.kind,
            "expires_at": self.expires_at,
        }
        if self.kind == "image":
            body["content"] = f"/api/projects/{project}/items/{self.item_id}/file"
        else:
            body["content"] = self.content
        return body


class LabelService:
    """All operations of the labeling service on one database.

    Parameters
    ----------
    db : Database
        From :func:`labelwise.service.db.open_database`.
    refresh_every : int
        Re-estimate the annotators' confusion matrices (a few Dawid-Skene steps, in
        the background worker) after this many new answers.
    """

    def __init__(
        self, db: Database, *, refresh_every: int = 25, group_commit: bool | None = None
    ) -> None:
        self.db = db
        self.refresh_every = refresh_every
        self._live: dict[int, LiveProject] = {}
        self._ids: dict[str, int] = {}
        self._guard = threading.Lock()
        self.wake = threading.Event()  # set when the background worker has work
        self._tokens: dict[str, tuple[Person, float]] = {}
        if group_commit is None:
            group_commit = db.is_sqlite
        self.writer = GroupCommit(self) if group_commit else None

    def close(self) -> None:
        """Stop the writer thread (after its queued work) and close the connections."""
        if self.writer is not None:
            self.writer.close()
        self.db.dispose()

    def _write(self, project_id: int | None, op: Op) -> Any:
        """Run the write ``op`` in a transaction and return its result once committed.

        SQLite: batched with the other requests waiting (:class:`GroupCommit`).
        PostgreSQL: a transaction of its own; the database orders concurrent ones.
        """
        if self.writer is not None:
            return self.writer.run(project_id, op)
        lock = self._locked(project_id) if project_id is not None else contextlib.nullcontext()
        with lock:
            ran = False
            try:
                with self.db.write() as conn:
                    result, after = op(conn)
                    ran = True
            except BaseException:
                if ran and project_id is not None:  # the COMMIT failed: the cache may
                    self.live(project_id).version = -1  # hold what never happened
                raise
            if after is not None:
                after()
        return result

    # ------------------------------------------------------------- people
    def cached_person(self, token: str | None) -> Person | None:
        """The person of a recently verified ``token`` (no database access), or None."""
        if not token or len(token) > 200:
            return None
        hit = self._tokens.get(token)
        return hit[0] if hit is not None and hit[1] > time.monotonic() else None

    def authenticate(self, token: str | None) -> Person:
        """The person whose token this is; :class:`Unauthorized` otherwise."""
        if not token:
            raise Unauthorized(
                "missing API token: send 'Authorization: Bearer <token>' "
                "(annotator and admin pages read it from the URL's #token=...)."
            )
        if len(token) > 200:
            raise Unauthorized("invalid API token.")
        hit = self._tokens.get(token)  # kept in memory only, never stored
        if hit is not None and hit[1] > time.monotonic():
            return hit[0]
        key = hash_token(token)
        with self.db.read() as conn:
            row = conn.execute(Q.TOKEN, {"hash": key}).one_or_none()
        if row is None:
            raise Unauthorized("invalid API token.")
        who = Person(int(row.id), str(row.name), str(row.role))
        if len(self._tokens) > 10_000:
            self._tokens.clear()
        self._tokens[token] = (who, time.monotonic() + TOKEN_CACHE_SECONDS)
        return who

    def create_person(self, name: str, role: str = "annotator") -> tuple[Person, str]:
        """Add a person; returns them and their token (shown once, stored hashed)."""
        if role not in ("annotator", "admin"):
            raise Invalid(f"role must be 'annotator' or 'admin'; got {role!r}.")
        if not name or len(name) > 100 or not name.isprintable():
            raise Invalid(f"person name must be 1-100 printable characters; got {name!r}.")
        token = new_token()

        def op(conn: Connection) -> tuple[int, None]:
            if conn.execute(select(people.c.id).where(people.c.name == name)).first():
                raise Conflict(f"a person named {name!r} exists already.")
            pid = conn.execute(
                insert(people).values(
                    name=name, role=role, token_hash=hash_token(token), created_at=time.time()
                )
            ).inserted_primary_key[0]
            return int(pid), None

        return Person(self._write(None, op), name, role), token

    def _person_by_name(self, conn: Connection, name: str, *, create: bool) -> int:
        pid = conn.execute(select(people.c.id).where(people.c.name == name)).scalar()
        if pid is None:
            if not create:
                raise NotFound(f"no person named {name!r}.")
            pid = conn.execute(
                insert(people).values(name=name, role="annotator", created_at=time.time())
            ).inserted_primary_key[0]
        return int(pid)

    def assign(self, project: str, person_names: list[str]) -> int:
        """Give these people access to ``project``; returns how many were new."""
        pid = self.project_id(project)

        def op(conn: Connection) -> tuple[int, None]:
            added = 0
            for name in person_names:
                person = self._person_by_name(conn, name, create=False)
                exists = conn.execute(
                    select(assignments.c.person_id).where(
                        assignments.c.project_id == pid, assignments.c.person_id == person
                    )
                ).first()
                if not exists:
                    conn.execute(insert(assignments).values(project_id=pid, person_id=person))
                    added += 1
            if added:
                self._bump(conn, pid)
            return added, None

        return self._write(pid, op)

    # ------------------------------------------------------------- projects
    def create_project(self, spec: ProjectSpec) -> int:
        """Create a project from a validated spec; returns its id."""
        try:  # the policy and its parameters must be usable before anything is written
            import numpy as np

            empty = np.zeros(0, dtype=np.int64)
            build_policy(
                spec.policy, spec.policy_params, spec.overlap, empty, empty
            )._check_params()
        except (ValueError, TypeError) as e:
            raise Invalid(f"policy {spec.policy!r} with {spec.policy_params}: {e}") from None

        def op(conn: Connection) -> tuple[int, None]:
            if conn.execute(select(projects.c.id).where(projects.c.name == spec.name)).first():
                raise Conflict(f"a project named {spec.name!r} exists already.")
            values = spec.model_dump()
            pid = conn.execute(
                insert(projects).values(**values, version=1, answer_seq=0, created_at=time.time())
            ).inserted_primary_key[0]
            return int(pid), None

        return self._write(None, op)

    def project_id(self, name: str) -> int:
        """The id of the project called ``name`` (cached: projects are never renamed)."""
        pid = self._ids.get(name)
        if pid is None:
            with self.db.read() as conn:
                pid = conn.execute(select(projects.c.id).where(projects.c.name == name)).scalar()
            if pid is None:
                raise NotFound(f"no project named {name[:64]!r}.")
            self._ids[name] = pid = int(pid)
        return pid

    def project(self, name: str) -> Any:
        """The project's row."""
        with self.db.read() as conn:
            return conn.execute(
                select(projects).where(projects.c.id == self.project_id(name))
            ).one()

    def check_access(self, person: Person, project_id: int, conn: Connection | None = None) -> None:
        """Admins see every project; an annotator only those assigned to them."""
        if person.is_admin:
            return
        if conn is None:
            with self.db.read() as c:
                return self.check_access(person, project_id, c)
        ok = conn.execute(Q.ASSIGNED, {"pid": project_id, "person": person.id}).first()
        if not ok:
            raise Forbidden(f"{person.name!r} is not assigned to this project.")

    def add_items(self, project: str, new: list[ItemIn]) -> int:
        """Import items (all or none); returns how many were added."""
        pid = self.project_id(project)
        p = self.project(project)
        classes = list(p.classes)
        rows = []
        seen: set[str] = set()
        for it in new:
            if it.id in seen:
                raise Invalid(f"item id {it.id!r} appears twice in the import.")
            seen.add(it.id)
            if it.kind == "image":
                try:
                    check_image_path(p.folder, it.content)
                except ValueError as e:
                    raise Invalid(f"item {it.id!r}: {e}") from None
            gold = None
            if it.gold is not None:
                if it.gold not in classes:
                    raise Invalid(
                        f"item {it.id!r}: gold label {it.gold!r} is not one of the "
                        f"project's classes ({', '.join(classes)})."
                    )
                gold = classes.index(it.gold)
            rows.append(
                dict(
                    project_id=pid,
                    external_id=it.id,
                    kind=it.kind,
                    content=it.stored_content(),
                    gold=gold,
                    features=it.features,
                    n_answers=0,
                )
            )

        def op(conn: Connection) -> tuple[int, None]:
            clash = conn.execute(
                select(items.c.external_id).where(
                    items.c.project_id == pid, items.c.external_id.in_(list(seen))
                )
            ).first()
            if clash:
                raise Conflict(f"item id {clash.external_id!r} exists already in {project!r}.")
            feats = {len(r["features"]) for r in rows if r["features"] is not None}
            old = conn.execute(
                select(items.c.features).where(items.c.project_id == pid).limit(1)
            ).scalar()
            if old is not None:
                feats.add(len(old))
            if len(feats) > 1 or (feats and any(r["features"] is None for r in rows)):
                raise Invalid("every item needs features of the same length, or none has any.")
            if p.policy.startswith("model") and any(r["features"] is None for r in rows):
                raise Invalid(f"policy {p.policy!r} needs features on every item.")
            if rows:
                conn.execute(insert(items), rows)
                self._bump(conn, pid)
            return len(rows), None

        return self._write(pid, op)

    # ------------------------------------------------------------- the cache
    def live(self, project_id: int) -> LiveProject:
        """The routing cache of a project (built on first use)."""
        with self._guard:
            lp = self._live.get(project_id)
            if lp is None:
                lp = self._live[project_id] = LiveProject(project_id)
        return lp

    def _locked(self, project_id: int) -> threading.RLock:
        return self.live(project_id).lock

    @staticmethod
    def _bump(conn: Connection, project_id: int) -> None:
        conn.execute(
            update(projects)
            .where(projects.c.id == project_id)
            .values(version=projects.c.version + 1)
        )

    def _synced(self, conn: Connection, person: Person, project_id: int) -> tuple[Any, LiveProject]:
        """The project's row ``(id, name, version, answer_seq, overlap, lease_seconds)``
        and its routing cache, caught up with the database; refuses an annotator who is
        not assigned."""
        p = Q.Raw(conn).first(Q.PROJECT, {"pid": project_id})
        live = self.live(project_id)
        live.sync(conn, int(p[2]), int(p[3]))
        if not person.is_admin and person.id not in live.assigned:
            # the cache holds the assignments as of the project's version (assigning
            # someone bumps it), so a miss here is a real refusal
            raise Forbidden(f"{person.name!r} is not assigned to this project.")
        return p, live

    # ------------------------------------------------------------- serving
    def next_task(self, person: Person, project: str) -> Task | None:
        """Lease the next item the project's policy picks for ``person`` (or their
        current lease, renewed); None when nothing is left for them."""
        return self._write(*self.next_task_op(person, project))  # type: ignore[no-any-return]

    def next_task_op(self, person: Person, project: str) -> tuple[int, Op]:
        """:meth:`next_task` as ``(project id, write op)``, for :meth:`awrite`."""
        pid = self.project_id(project)
        now = time.time()

        def op(conn: Connection) -> tuple[Task | None, None]:
            return self._next(conn, person, pid, now), None

        op.next_for = person  # type: ignore[attr-defined]  # GroupCommit plans these together
        return pid, op

    def plan_next(self, conn: Connection, project_id: int, people_ids: list[int]) -> None:
        """Choose the items of several waiting next-task requests of one project with one
        evaluation of the routing policy (:meth:`LiveProject.choose_many`), before their
        ops run in the same transaction; each op then claims its planned item through
        the same database checks (and routes on its own when the claim fails).
        Call with the project's cache lock held."""
        p = Q.Raw(conn).first(Q.PROJECT, {"pid": project_id})
        live = self.live(project_id)
        live.sync(conn, int(p[2]), int(p[3]))
        others = Q.Raw(conn).column(Q.LIVE_LEASES, {"pid": project_id, "now": time.time()})
        live.hints = live.choose_many(people_ids, others)

    async def awrite(self, project_id: int | None, op: Op) -> Any:
        """:meth:`_write` for an event loop: with group commit, await the batch's
        commit without holding a thread; otherwise run in the thread pool."""
        if self.writer is not None:
            return await self.writer.submit_async(project_id, op)
        from starlette.concurrency import run_in_threadpool

        return await run_in_threadpool(self._write, project_id, op)

    def _next(self, conn: Connection, person: Person, pid: int, now: float) -> Task | None:
        raw = Q.Raw(conn)
        p, live = self._synced(conn, person, pid)
        overlap, expires = int(p[4]), now + int(p[5])
        own = raw.first(Q.OWN_LEASE, {"pid": pid, "person": person.id})
        if own is not None:  # (id, item_id, expires_at, created_at)
            if own[2] > now:
                raw.run(Q.RENEW_LEASE, {"lease_id": own[0], "exp": expires})
                return self._task(raw, own[1], expires)
            raw.run(Q.DROP_LEASE, {"lease_id": own[0]})
        exclude: set[int] = set()
        hint = live.hints.pop(person.id, None)
        if hint is not None:  # planned with the batch's other requests (plan_next)
            row = self._claim(raw, hint, person.id, overlap, now)
            if row is not None:
                return self._lease(raw, pid, hint, person.id, now, expires, row)
            exclude.add(hint)
        others = raw.column(Q.LIVE_LEASES, {"pid": pid, "now": now})
        for _ in range(_ROUTE_TRIES):
            item_id = live.choose(person.id, others, exclude)
            if item_id is None:
                return None
            row = self._claim(raw, item_id, person.id, overlap, now)
            if row is not None:
                return self._lease(raw, pid, item_id, person.id, now, expires, row)
            exclude.add(item_id)  # the cache was stale or another process holds it
        return None

    def _lease(
        self, raw: Q.Raw, pid: int, item_id: int, person_id: int, now: float, expires: float,
        row: Any,
    ) -> Task:  # fmt: skip
        """Record the lease of a claimed item; ``row`` is ``_claim``'s
        ``(n_answers, gold, external_id, kind, content)``."""
        raw.run(
            Q.INSERT_LEASE,
            {"pid": pid, "item": item_id, "person": person_id, "now": now, "exp": expires},
        )
        return self._make_task(item_id, row[2], row[3], row[4], expires)

    @staticmethod
    def _claim(raw: Q.Raw, item_id: int, person_id: int, overlap: int, now: float) -> Any:
        """The item's row, locked, when ``person_id`` may lease it now; else None."""
        row = raw.first(Q.LOCK_ITEM, {"item": item_id})
        if row is None:  # locked by a concurrent lease on PostgreSQL: take another
            return None
        held, mine = raw.first(Q.CLAIM_CHECK, {"item": item_id, "now": now, "person": person_id})
        if mine or (row[1] is None and row[0] + held >= overlap):
            return None
        return row

    @staticmethod
    def _make_task(item_id: int, external_id: str, kind: str, content: str, expires: float) -> Task:
        body: Any = json.loads(content) if kind == "json" else content
        return Task(int(item_id), str(external_id), str(kind), body, expires)

    def _task(self, raw: Q.Raw, item_id: int, expires: float) -> Task:
        it = raw.first(Q.TASK, {"item": item_id})
        return self._make_task(item_id, it[0], it[1], it[2], expires)

    def answer(
        self, person: Person, project: str, item_id: int, label: str, client_key: str
    ) -> tuple[dict[str, Any], bool]:
        """Record ``person``'s answer; returns ``(answer, created)``.

        A retry with the same ``client_key`` returns the recorded answer with
        ``created=False`` and records nothing.
        """
        return self._write(*self.answer_op(person, project, item_id, label, client_key))  # type: ignore[no-any-return]

    def answer_op(
        self, person: Person, project: str, item_id: int, label: str, client_key: str
    ) -> tuple[int, Op]:
        """:meth:`answer` as ``(project id, write op)``, for :meth:`awrite`."""
        pid = self.project_id(project)
        now = time.time()

        def op(conn: Connection) -> tuple[tuple[dict[str, Any], bool], Any]:
            raw = Q.Raw(conn)
            p, live = self._synced(conn, person, pid)
            classes = live.classes
            if label not in classes:
                raise Invalid(
                    f"label {label[:100]!r} is not one of the project's classes: "
                    f"{', '.join(classes)}."
                )
            code = classes.index(label)
            prev = raw.first(Q.BY_CLIENT_KEY, {"person": person.id, "key": client_key})
            if prev is not None:  # (id, item_id, label, seq)
                if prev[1] != item_id or prev[2] != code:
                    raise Conflict(
                        f"client key {client_key!r} was already used for another answer."
                    )
                return (self._answer_json(prev[0], item_id, label, prev[3]), False), None
            it = raw.first(Q.ITEM, {"item": item_id, "pid": pid})
            if it is None:  # (n_answers, gold)
                raise NotFound(f"no item {item_id} in project {project!r}.")
            if raw.first(Q.ANSWERED, {"item": item_id, "person": person.id}) is not None:
                raise Conflict(f"you have already answered item {item_id}.")
            lease = raw.first(Q.OWN_LEASE, {"pid": pid, "person": person.id})
            mine = lease is not None and lease[1] == item_id
            lease_created = lease[3] if lease is not None else now
            lease_live = lease is not None and lease[2] > now
            if it[1] is None:
                # a live lease of one's own is a reserved slot; otherwise there must
                # be room beside everyone else's live leases
                held = (
                    0
                    if mine and lease_live
                    else raw.scalar(Q.HELD, {"item": item_id, "now": now, "person": person.id})
                )
                room = raw.rowcount(
                    Q.TAKE_SLOT, {"item": item_id, "held": held, "overlap": int(p[4])}
                )
                if room == 0:
                    raise Conflict(
                        f"item {item_id} has all the answers it needs "
                        "(your lease had expired); ask for the next task."
                    )
            seq = int(raw.scalar(Q.NEXT_SEQ, {"pid": pid}))
            aid = raw.scalar(
                Q.INSERT_ANSWER,
                {
                    "pid": pid,
                    "item": item_id,
                    "person": person.id,
                    "label": code,
                    "key": client_key,
                    "seq": seq,
                    "now": now,
                    "duration_ms": int(1000 * (now - lease_created)) if mine else None,
                },
            )
            if mine and lease is not None:
                raw.run(Q.DROP_LEASE, {"lease_id": lease[0]})
            version = int(p[2])
            # the cache follows within the transaction, lock held, when it is exactly one
            # answer behind (a failed commit invalidates it: see GroupCommit and _write)
            applied = live.version == version and seq == live.seq + 1
            if applied:
                live.apply([(item_id, person.id, code)], seq)

            def after() -> None:
                # committed: catch up when another process came between
                if not applied and seq > live.seq:
                    with self.db.read() as rc:
                        live.sync(rc, version, seq)
                if live.refresh_due(self.refresh_every):
                    self.wake.set()

            return (self._answer_json(aid, item_id, label, seq), True), after

        return pid, op

    @staticmethod
    def _answer_json(aid: int, item_id: int, label: str, seq: int) -> dict[str, Any]:
        return {"answer_id": int(aid), "item_id": int(item_id), "label": label, "seq": int(seq)}

    def skip(self, person: Person, project: str, item_id: int) -> None:
        """``person`` passes on ``item_id``: it is never offered to them again."""
        pid = self.project_id(project)

        def op(conn: Connection) -> tuple[None, Any]:
            _, live = self._synced(conn, person, pid)
            found = conn.execute(
                select(items.c.id).where(items.c.id == item_id, items.c.project_id == pid)
            ).first()
            if not found:
                raise NotFound(f"no item {item_id} in project {project!r}.")
            done = conn.execute(
                select(skips.c.item_id).where(
                    skips.c.project_id == pid,
                    skips.c.person_id == person.id,
                    skips.c.item_id == item_id,
                )
            ).first()
            if not done:
                conn.execute(
                    insert(skips).values(
                        project_id=pid, person_id=person.id, item_id=item_id, created_at=time.time()
                    )
                )
            conn.execute(
                delete(leases).where(
                    leases.c.project_id == pid,
                    leases.c.person_id == person.id,
                    leases.c.item_id == item_id,
                )
            )
            return None, lambda: live.note_skip(person.id, item_id)

        self._write(pid, op)

    def undo(self, person: Person, project: str) -> Task | None:
        """Withdraw ``person``'s last answer in ``project`` and lease that item back to
        them; returns it (None when they have nothing to undo)."""
        pid = self.project_id(project)
        now = time.time()

        def op(conn: Connection) -> tuple[Task | None, Any]:
            p, live = self._synced(conn, person, pid)
            last = conn.execute(
                select(answers.c.id, answers.c.item_id, answers.c.label)
                .where(
                    answers.c.project_id == pid,
                    answers.c.person_id == person.id,
                    answers.c.undone.is_(False),
                    answers.c.source == "web",
                )
                .order_by(answers.c.seq.desc())
                .limit(1)
            ).one_or_none()
            if last is None:
                return None, None
            conn.execute(update(answers).where(answers.c.id == last.id).values(undone=True))
            conn.execute(
                update(items)
                .where(and_(items.c.id == last.item_id, items.c.gold.is_(None)))
                .values(n_answers=items.c.n_answers - 1)
            )
            conn.execute(
                delete(leases).where(leases.c.project_id == pid, leases.c.person_id == person.id)
            )
            expires = now + int(p[5])
            conn.execute(
                insert(leases).values(
                    project_id=pid,
                    item_id=last.item_id,
                    person_id=person.id,
                    created_at=now,
                    expires_at=expires,
                )
            )
            # other server processes see a new version and rebuild; this one takes the
            # answer out of its cache once committed (O(answers), no rebuild)
            seen, seq = live.version, live.seq
            self._bump(conn, pid)
            version = int(Q.Raw(conn).first(Q.PROJECT, {"pid": pid})[2])

            def after() -> None:
                if live.version == seen and live.seq == seq:
                    live.unapply(int(last.item_id), person.id, int(last.label))
                    live.version = version
                else:  # the cache moved meanwhile: build it from the database
                    self._rebuild(live)

            return self._task(Q.Raw(conn), last.item_id, expires), after

        return self._write(pid, op)

    def _rebuild(self, live: LiveProject) -> None:
        with self.db.read() as rc:
            live.rebuild(rc)

    def release_expired(self) -> int:
        """Delete expired leases (they already count for nothing); returns how many."""
        return self._write(
            None,
            lambda conn: (
                int(
                    conn.execute(delete(leases).where(leases.c.expires_at <= time.time())).rowcount
                ),
                None,
            ),
        )

    # ------------------------------------------------------------- reading
    def projects_of(self, person: Person) -> list[str]:
        """Names of the projects ``person`` may open (all of them for an admin)."""
        with self.db.read() as conn:
            q = select(projects.c.name).order_by(projects.c.name)
            if not person.is_admin:
                q = q.join(assignments, assignments.c.project_id == projects.c.id).where(
                    assignments.c.person_id == person.id
                )
            return [str(n) for n in conn.execute(q).scalars()]

    def progress(self, person: Person, project: str) -> dict[str, Any]:
        """What an annotator may see: their own count and the project's progress
        (never anyone's labels, nor which items are gold)."""
        pid = self.project_id(project)
        p = self.project(project)
        live = self.live(pid)
        with live.lock, self.db.read() as conn:
            self.check_access(person, pid, conn)
            live.sync(conn, int(p.version), int(p.answer_seq))
            mine = conn.execute(
                select(func.count())
                .select_from(answers)
                .where(
                    answers.c.project_id == pid,
                    answers.c.person_id == person.id,
                    answers.c.undone.is_(False),
                )
            ).scalar_one()
            st = live.state
            n = int(live.item_ids.size)
            regular = st.gold[:n] < 0
            is_open = live.policy.is_open(st)[:n] & regular & (st.n_answers[:n] < st.max_answers)
            done = int((regular & ~is_open).sum())
            total = int(regular.sum())
        return {
            "my_answers": int(mine),
            "items": total,
            "items_done": done,
            "progress": round(done / max(1, total), 4),
        }

    def stats(self, project: str) -> dict[str, Any]:
        """The admin page's numbers for ``project`` (see :func:`project_stats`)."""
        pid = self.project_id(project)
        p = self.project(project)
        live = self.live(pid)
        with live.lock, self.db.read() as conn:
            live.sync(conn, int(p.version), int(p.answer_seq))
            return project_stats(conn, p, live)
