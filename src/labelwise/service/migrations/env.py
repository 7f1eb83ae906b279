"""Alembic environment: runs on the connection :func:`labelwise.service.migrations.upgrade`
passes in (never from an ini file)."""

from __future__ import annotations

from alembic import context

from labelwise.service.db import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
