"""Alembic environment: the URL comes from the caller (core.infra.migration_runner) or from
Settings."""

from __future__ import annotations

import warnings

from alembic import context
from sqlalchemy import Connection

import core.models  # noqa: F401  (registers every table on Base.metadata)
from core.config import get_settings
from core.db import Base, engine_for

# SQLite's batch mode copies a table, reflecting the tables its foreign keys point at; the
# customers table's expression indexes (lower(name)) cannot be reflected and are not needed there.
warnings.filterwarnings(
    "ignore", message="Skipped unsupported reflection of expression-based index"
)

config = context.config
target_metadata = Base.metadata


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run_migrations(connection)
else:
    url = config.attributes.get("url") or get_settings().database_url
    with engine_for(url).connect() as conn:
        run_migrations(conn)
        conn.commit()
