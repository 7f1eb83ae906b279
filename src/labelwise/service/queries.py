"""The statements of the request hot path, built once at import with bind parameters,
and :class:`Raw`, which runs them.

Why raw: on SQLite each statement of the hot path costs about ten times more through
SQLAlchemy's execution layer (result objects, parameter processing) than on the
DB-API cursor itself, and a next-task + answer pair issues about fifteen of them.
:class:`Raw` compiles each statement once to SQLite's SQL and runs it on the
transaction's own ``sqlite3`` cursor; on PostgreSQL it hands the statement to
SQLAlchemy (row locks, ``FOR UPDATE SKIP LOCKED``), where the network round trip
dominates anyway.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Connection,
    bindparam,
    delete,
    false,
    func,
    insert,
    literal_column,
    select,
    update,
)
from sqlalchemy.dialects import sqlite
from sqlalchemy.sql import ClauseElement

from labelwise.service.db import answers, assignments, items, leases, people, projects, skips

_SQLITE = sqlite.dialect()
_compiled: dict[int, tuple[str, tuple[str, ...], dict[str, Any]]] = {}


def _sqlite_sql(stmt: ClauseElement) -> tuple[str, tuple[str, ...], dict[str, Any]]:
    """``stmt`` as SQLite SQL with ``?`` markers, the bind names in marker order, and
    the values of the binds the statement fixes itself (``n + 1``)."""
    hit = _compiled.get(id(stmt))
    if hit is None:
        c = stmt.compile(dialect=_SQLITE)
        fixed = {k: v for k, v in c.params.items() if v is not None}
        hit = _compiled[id(stmt)] = (str(c), tuple(c.positiontup or ()), fixed)  # type: ignore[attr-defined]
    return hit


class Raw:
    """Runs the statements of this module inside ``conn``'s transaction; rows are tuples.

    On SQLite straight on the DB-API cursor (no per-call SQLAlchemy overhead); on other
    databases through ``conn.execute``.
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.cur: Any = None
        if conn.dialect.name == "sqlite":
            self.cur = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]

    def run(self, stmt: ClauseElement, params: dict[str, Any]) -> Any:
        """Execute; returns the DB-API cursor (SQLite) or SQLAlchemy's result."""
        if self.cur is None:
            return self.conn.execute(stmt, params)  # type: ignore[call-overload]
        sql, names, fixed = _sqlite_sql(stmt)
        if fixed:
            params = {**fixed, **params}
        return self.cur.execute(sql, tuple(params[n] for n in names))

    def first(self, stmt: ClauseElement, params: dict[str, Any]) -> Any:
        """The first row (a tuple) or None."""
        res = self.run(stmt, params)
        row = res.fetchone()
        if self.cur is None and hasattr(res, "close"):
            res.close()
        return row

    def scalar(self, stmt: ClauseElement, params: dict[str, Any]) -> Any:
        """The first column of the first row, or None."""
        row = self.first(stmt, params)
        return None if row is None else row[0]

    def column(self, stmt: ClauseElement, params: dict[str, Any]) -> list[Any]:
        """The first column of every row."""
        return [r[0] for r in self.run(stmt, params).fetchall()]

    def rowcount(self, stmt: ClauseElement, params: dict[str, Any]) -> int:
        """Rows changed by an UPDATE or DELETE."""
        return int(self.run(stmt, params).rowcount)


_pid: Any = bindparam("pid")
_person: Any = bindparam("person")
_item: Any = bindparam("item")
_now: Any = bindparam("now")

TOKEN = select(people.c.id, people.c.name, people.c.role).where(
    people.c.token_hash == bindparam("hash")
)
PROJECT = select(
    projects.c.id,
    projects.c.name,
    projects.c.version,
    projects.c.answer_seq,
    projects.c.overlap,
    projects.c.lease_seconds,
).where(projects.c.id == _pid)
ASSIGNED = select(assignments.c.person_id).where(
    assignments.c.project_id == _pid, assignments.c.person_id == _person
)
OWN_LEASE = select(leases.c.id, leases.c.item_id, leases.c.expires_at, leases.c.created_at).where(
    leases.c.project_id == _pid, leases.c.person_id == _person
)
INSERT_LEASE = insert(leases).values(
    project_id=_pid,
    item_id=_item,
    person_id=_person,
    created_at=_now,
    expires_at=bindparam("exp"),
)
INSERT_ANSWER = (
    insert(answers)
    .values(
        project_id=_pid,
        item_id=_item,
        person_id=_person,
        label=bindparam("label"),
        client_key=bindparam("key"),
        seq=bindparam("seq"),
        created_at=_now,
        duration_ms=bindparam("duration_ms"),
        undone=false(),
        source=literal_column("'web'"),
    )
    .returning(answers.c.id)
)
RENEW_LEASE = (
    update(leases).where(leases.c.id == bindparam("lease_id")).values(expires_at=bindparam("exp"))
)
DROP_LEASE = delete(leases).where(leases.c.id == bindparam("lease_id"))
LIVE_LEASES = select(leases.c.item_id).where(
    leases.c.project_id == _pid, leases.c.expires_at > _now
)
LOCK_ITEM = (
    select(items.c.n_answers, items.c.gold, items.c.external_id, items.c.kind, items.c.content)
    .where(items.c.id == _item)
    .with_for_update(skip_locked=True)
)
HELD = (
    select(func.count())
    .select_from(leases)
    .where(leases.c.item_id == _item, leases.c.expires_at > _now, leases.c.person_id != _person)
)
ANSWERED = select(answers.c.id).where(
    answers.c.item_id == _item, answers.c.person_id == _person, answers.c.undone == false()
)
ANSWERED_OR_SKIPPED = ANSWERED.union_all(
    select(skips.c.item_id).where(skips.c.item_id == _item, skips.c.person_id == _person)
)
# one round trip for the lease check: others' live leases, and whether this person
# already answered or skipped the item
CLAIM_CHECK = select(HELD.scalar_subquery(), ANSWERED_OR_SKIPPED.exists())
TASK = select(items.c.external_id, items.c.kind, items.c.content).where(items.c.id == _item)
BY_CLIENT_KEY = select(answers.c.id, answers.c.item_id, answers.c.label, answers.c.seq).where(
    answers.c.person_id == _person, answers.c.client_key == bindparam("key")
)
# the answer path waits for the item's row lock, so the leases it then counts are settled
ITEM = (
    select(items.c.n_answers, items.c.gold)
    .where(items.c.id == _item, items.c.project_id == _pid)
    .with_for_update()
)
TAKE_SLOT = (
    update(items)
    .where(items.c.id == _item, items.c.n_answers + bindparam("held") < bindparam("overlap"))
    .values(n_answers=items.c.n_answers + 1)
)
NEXT_SEQ = (
    update(projects)
    .where(projects.c.id == _pid)
    .values(answer_seq=projects.c.answer_seq + 1)
    .returning(projects.c.answer_seq)
)
