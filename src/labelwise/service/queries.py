"""The statements of the request hot path, built once at import (with bind
parameters) so a request only binds values: SQLAlchemy then reuses their compiled form
instead of rebuilding expression trees on every call."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, delete, false, func, select, update

from labelwise.service.db import answers, assignments, items, leases, people, projects, skips

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
    projects.c.classes,
).where(projects.c.id == _pid)
ASSIGNED = select(assignments.c.person_id).where(
    assignments.c.project_id == _pid, assignments.c.person_id == _person
)
OWN_LEASE = select(leases.c.id, leases.c.item_id, leases.c.expires_at, leases.c.created_at).where(
    leases.c.project_id == _pid, leases.c.person_id == _person
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
