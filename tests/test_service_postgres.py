"""The service on PostgreSQL (Debian's server, started here; skipped only when it
cannot be installed): migrations, and two services with their own caches and
connection pools, as two server processes, leasing with FOR UPDATE SKIP LOCKED."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from _service import label_concurrently, postgres_url, text_project
from labelwise.service import LabelService, open_database
from labelwise.service.auth import Conflict, Person
from labelwise.service.db import items, metadata, people
from labelwise.service.transfer import answers_frame, consensus_frame


@pytest.fixture(scope="module")
def pg() -> str:
    url = postgres_url()
    if url is None:
        pytest.skip("PostgreSQL could not be installed or started here")
    return url


def _who(svc: LabelService, name: str) -> Person:
    with svc.db.read() as c:
        row = c.execute(select(people).where(people.c.name == name)).one()
    return Person(row.id, row.name, row.role)


def test_postgres_schema_and_two_processes(pg: str, tmp_path: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    svc1 = LabelService(open_database(pg))
    assert svc1.writer is None  # PostgreSQL orders concurrent transactions itself
    with svc1.db.read() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    names = tuple(f"w{i}" for i in range(8))
    text_project(svc1, n_items=40, overlap=2, policy="dynamic", annotators=names)
    svc2 = LabelService(open_database(pg))
    acked = label_concurrently((svc1, svc2), names, "t", per_person=40)
    frame = answers_frame(svc1, "t")
    assert len(frame) == len(acked) == 80
    assert frame.groupby("item").size().max() == 2
    assert not frame.duplicated(["item", "worker"]).any()
    with svc1.db.read() as c:
        counts = dict(c.execute(select(items.c.external_id, items.c.n_answers)).all())
    assert counts == frame.groupby("item").size().to_dict()
    # idempotency and the consensus export work the same on PostgreSQL
    who = _who(svc2, "w0")
    row = frame[frame["worker"] == "w0"].iloc[0]
    with svc2.db.read() as c:
        item_id = c.execute(
            select(items.c.id).where(items.c.external_id == row["item"])
        ).scalar_one()
    _, created = svc2.answer(who, "t", item_id, row["label"], row["client_key"])
    assert not created
    with pytest.raises(Conflict):
        svc2.answer(who, "t", item_id, row["label"], "another-key")
    assert len(consensus_frame(svc2, "t")) == 40
    # the second service's cache caught up with the first one's answers
    s1, s2 = svc1.stats("t"), svc2.stats("t")
    assert s1["answers"] == s2["answers"] == 80
    svc1.close()
    svc2.close()
