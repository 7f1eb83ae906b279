"""Alembic migrations of the service's database, run by :func:`upgrade` at start-up.

Every schema change is a new revision under ``versions/``; a database created by any
earlier release is brought forward in place, its answers kept.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text

if TYPE_CHECKING:
    from labelwise.service.db import Database

__all__ = ["upgrade"]

_HERE = Path(__file__).resolve().parent


def upgrade(db: Database, revision: str = "head") -> None:
    """Apply every migration up to ``revision`` in one transaction.

    Several server processes may start at once: on SQLite the write transaction
    (``BEGIN IMMEDIATE``) and on PostgreSQL an advisory lock let one migrate while the
    others wait and then find nothing to do.
    """
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(_HERE))
    with db.write() as conn:
        if not db.is_sqlite:
            conn.execute(text("SELECT pg_advisory_xact_lock(731401)"))
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
