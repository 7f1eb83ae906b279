"""Helpers of the service tests: a service on a fresh database, a live server in a
thread, and a PostgreSQL database from Debian's package when it can be started."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("sqlalchemy")

from labelwise.service import (
    ItemIn,
    LabelService,
    ProjectSpec,
    create_app,
    open_database,
    sqlite_url,
)


def new_service(path: Path, url: str | None = None, *, durable: bool = False) -> LabelService:
    """A service on a fresh SQLite file under ``path`` (or on ``url``). Not ``durable``:
    WAL with synchronous=NORMAL, safe against a killed process, not against power loss
    (one fsync per commit would make the tests slow on a loaded disk)."""
    return LabelService(
        open_database(
            url or sqlite_url(path / "lw.db"), synchronous="FULL" if durable else "NORMAL"
        )
    )


def text_project(
    svc: LabelService,
    name: str = "t",
    *,
    n_items: int = 12,
    classes: tuple[str, ...] = ("cat", "dog", "bird"),
    overlap: int = 2,
    policy: str = "fixed",
    annotators: tuple[str, ...] = ("ann1", "ann2"),
    folder: str = "",
    **spec: Any,
) -> dict[str, str]:
    """A project of ``n_items`` text items; returns ``{name: token}`` with ``admin``."""
    svc.create_project(
        ProjectSpec(
            name=name,
            classes=list(classes),
            overlap=overlap,
            policy=policy,
            folder=folder,
            **spec,
        )
    )
    svc.add_items(
        name, [ItemIn(id=f"i{j:03d}", content=f"item number {j}") for j in range(n_items)]
    )
    tokens = {}
    try:
        _, tokens["admin"] = svc.create_person("admin", "admin")
    except ValueError:
        pass
    for a in annotators:
        _, tokens[a] = svc.create_person(a)
    svc.assign(name, list(annotators))
    return tokens


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def live_server(svc: LabelService, *, worker: bool = False) -> Iterator[str]:
    """Serve ``svc`` with uvicorn in a thread; yields the base URL."""
    import uvicorn

    port = free_port()
    app = create_app(service=svc, start_worker=worker)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not server.started:
        if time.time() > deadline:
            raise RuntimeError("test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def postgres_url() -> str | None:
    """A fresh PostgreSQL database on Debian's server (installed and started when
    missing); None when that cannot be done here."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return None
    if shutil.which("pg_ctlcluster") is None:
        if shutil.which("apt-get") is None:
            return None
        subprocess.run(
            "apt-get install -y -qq postgresql", shell=True, capture_output=True, timeout=600
        )
        if shutil.which("pg_ctlcluster") is None:
            return None
    versions = sorted(p.name for p in Path("/usr/lib/postgresql").glob("*"))
    if not versions:
        return None
    ver = versions[-1]
    subprocess.run(["pg_ctlcluster", ver, "main", "start"], capture_output=True, timeout=60)
    sql = (
        "DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname='labelwise') THEN "
        "CREATE ROLE labelwise LOGIN PASSWORD 'labelwise' CREATEDB; END IF; END$$;"
    )
    r = subprocess.run(
        ["su", "postgres", "-c", "psql -q -v ON_ERROR_STOP=1"],
        input=sql.encode(),
        capture_output=True,
        timeout=60,
    )
    if r.returncode != 0:
        return None
    name = "lw_" + uuid.uuid4().hex[:10]
    r = subprocess.run(
        ["su", "postgres", "-c", f"createdb -O labelwise {name}"], capture_output=True, timeout=60
    )
    if r.returncode != 0:
        return None
    return f"postgresql+psycopg://labelwise:labelwise@127.0.0.1:5432/{name}"


def person(svc: LabelService, name: str) -> Any:
    """The ``Person`` row of ``name`` (as the API's token check would return it)."""
    from sqlalchemy import select

    from labelwise.service.auth import Person
    from labelwise.service.db import people

    with svc.db.read() as c:
        row = c.execute(select(people).where(people.c.name == name)).one()
    return Person(row.id, row.name, row.role)


def label_concurrently(
    services: tuple[LabelService, ...], names: tuple[str, ...], project: str, per_person: int
) -> list[tuple[str, int]]:
    """One thread per annotator, alternating between ``services`` (as separate server
    processes would): each asks for its next task and answers it, up to ``per_person``
    times; returns the acknowledged (annotator, item) pairs and fails on any error."""
    acked: list[tuple[str, int]] = []
    errors: list[BaseException] = []

    def work(i: int) -> None:
        svc = services[i % len(services)]
        who = person(svc, names[i])
        try:
            for j in range(per_person):
                t = svc.next_task(who, project)
                if t is None:
                    return
                svc.answer(who, project, t.item_id, ("cat", "dog")[j % 2], f"{who.name}-{j}")
                acked.append((who.name, t.item_id))
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(names))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return acked
