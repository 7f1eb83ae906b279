"""The service's tables and its database connection: the single source of truth.

Tables are SQLAlchemy Core (the request hot path issues a handful of small statements;
the ORM's unit of work would only add overhead). The schema is created and upgraded by
the Alembic migrations in ``labelwise/service/migrations`` (never ``create_all``), and
``tests/test_service_db.py`` checks that the migrations and these tables agree.

SQLite (the embedded default, a file in the project folder) runs in WAL mode with
``synchronous=FULL``: a commit is on disk before the request is acknowledged. Every
write transaction starts with ``BEGIN IMMEDIATE``, so writers queue on SQLite's one
write lock instead of failing a read-to-write upgrade; reads use a second, deferred
engine and never wait for writers (WAL). PostgreSQL is reached by URL
(``postgresql+psycopg://...``); there, concurrent writers are ordered by row locks
(``FOR UPDATE SKIP LOCKED`` on items when leasing, the project row for answer order).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Connection,
    Engine,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    text,
)

__all__ = [
    "Database",
    "answers",
    "assignments",
    "items",
    "leases",
    "metadata",
    "open_database",
    "people",
    "projects",
    "skips",
]

metadata = MetaData()

projects = Table(
    "projects",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("title", String(200), nullable=False, default=""),
    Column("classes", JSON, nullable=False),
    Column("keys", JSON, nullable=False),
    Column("instructions", Text, nullable=False, default=""),
    Column("template", Text, nullable=False, default=""),
    Column("policy", String(32), nullable=False),
    Column("policy_params", JSON, nullable=False),
    Column("overlap", Integer, nullable=False),
    Column("lease_seconds", Integer, nullable=False),
    Column("cost_per_answer", Float, nullable=False),
    Column("model_every", Integer, nullable=False),
    Column("folder", Text, nullable=False, default=""),
    # bumped by every change that is not an appended answer (undo, import, new
    # annotator): each server process rebuilds its routing cache when it sees a new one
    Column("version", Integer, nullable=False, default=1),
    # the number of answers ever committed; an answer's ``seq``; ordered by this row's lock
    Column("answer_seq", Integer, nullable=False, default=0),
    Column("created_at", Float, nullable=False),
)

items = Table(
    "items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("project_id", Integer, ForeignKey("projects.id"), nullable=False),
    Column("external_id", String(200), nullable=False),
    Column("kind", String(8), nullable=False),  # text | image | url | json
    Column("content", Text, nullable=False),
    Column("gold", Integer, nullable=True),  # class code of a gold item
    Column("features", JSON, nullable=True),
    Column("n_answers", Integer, nullable=False, default=0),  # regular answers, not undone
    UniqueConstraint("project_id", "external_id", name="uq_items_external"),
)

people = Table(
    "people",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("role", String(16), nullable=False),  # annotator | admin
    Column("token_hash", String(64), nullable=True, unique=True),
    Column("created_at", Float, nullable=False),
)

assignments = Table(
    "assignments",
    metadata,
    Column("project_id", Integer, ForeignKey("projects.id"), primary_key=True),
    Column("person_id", Integer, ForeignKey("people.id"), primary_key=True),
)

answers = Table(
    "answers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("project_id", Integer, ForeignKey("projects.id"), nullable=False),
    Column("item_id", Integer, ForeignKey("items.id"), nullable=False),
    Column("person_id", Integer, ForeignKey("people.id"), nullable=False),
    Column("label", Integer, nullable=False),
    Column("client_key", String(100), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("duration_ms", Integer, nullable=True),
    Column("undone", Boolean, nullable=False, default=False),
    Column("source", String(16), nullable=False, default="web"),
    UniqueConstraint("person_id", "client_key", name="uq_answers_client_key"),
    Index("ix_answers_project_seq", "project_id", "seq"),
    # one live answer per person and item, enforced by the database itself
    Index(
        "uq_answers_live",
        "item_id",
        "person_id",
        unique=True,
        sqlite_where=text("undone = 0"),
        postgresql_where=text("undone = false"),
    ),
)

leases = Table(
    "leases",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("project_id", Integer, ForeignKey("projects.id"), nullable=False),
    Column("item_id", Integer, ForeignKey("items.id"), nullable=False),
    Column("person_id", Integer, ForeignKey("people.id"), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    UniqueConstraint("project_id", "person_id", name="uq_leases_person"),
    Index("ix_leases_item", "item_id"),
)

skips = Table(
    "skips",
    metadata,
    Column("project_id", Integer, ForeignKey("projects.id"), primary_key=True),
    Column("person_id", Integer, ForeignKey("people.id"), primary_key=True),
    Column("item_id", Integer, ForeignKey("items.id"), primary_key=True),
    Column("created_at", Float, nullable=False),
)


@dataclass
class Database:
    """The service's connection: a write engine and a read engine (the same one on
    PostgreSQL). Use :meth:`write` for a transaction that changes anything."""

    url: str
    write_engine: Engine
    read_engine: Engine

    @property
    def is_sqlite(self) -> bool:
        """Whether this is the embedded SQLite database."""
        return self.write_engine.dialect.name == "sqlite"

    @contextlib.contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction, committed on success (durably) and rolled back on error."""
        with self.write_engine.begin() as conn:
            yield conn

    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only snapshot."""
        with self.read_engine.connect() as conn:
            yield conn

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            self.read_engine.dispose()


def _sqlite_engine(url: str, *, immediate: bool, synchronous: str) -> Engine:
    engine = create_engine(
        url, connect_args={"check_same_thread": False, "timeout": 30}, pool_size=8
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # SQLAlchemy's "begin" event issues BEGIN
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def sqlite_url(path: str | Path) -> str:
    """The SQLAlchemy URL of the SQLite file ``path``."""
    return f"sqlite:///{Path(path).resolve()}"


def open_database(url: str, *, migrate: bool = True, synchronous: str = "FULL") -> Database:
    """Connect to ``url`` and bring its schema to the newest migration.

    ``url`` is a SQLAlchemy URL: ``sqlite:///path/to/labelwise.db`` or
    ``postgresql+psycopg://user:password@host/dbname``. ``synchronous`` is SQLite's
    setting: ``FULL`` (default) survives power loss; ``NORMAL`` survives a killed
    process but may lose the last commits on power loss (tests use it for speed).
    """
    if synchronous not in ("FULL", "NORMAL", "EXTRA"):
        raise ValueError(f"synchronous must be FULL, NORMAL or EXTRA; got {synchronous!r}.")
    if url.startswith("sqlite"):
        db = Database(
            url,
            _sqlite_engine(url, immediate=True, synchronous=synchronous),
            _sqlite_engine(url, immediate=False, synchronous=synchronous),
        )
    else:
        engine = create_engine(url, pool_size=16, max_overflow=16, pool_pre_ping=True)
        db = Database(url, engine, engine)
    if migrate:
        from labelwise.service.migrations import upgrade

        upgrade(db)
    return db
