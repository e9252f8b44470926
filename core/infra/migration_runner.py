"""Schema migrations (Alembic), driven from code so no one needs alembic.ini to upgrade."""

from __future__ import annotations

import logging

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text

from core.config import ROOT, get_settings
from core.db import engine_for

log = logging.getLogger(__name__)

MIGRATIONS_DIR = ROOT / "core" / "migrations"
MIGRATION_LOCK_ID = 7_214_001
"""PostgreSQL advisory lock key: one process migrates while the others wait."""


def _config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None, "no migrations found"
    return head


def current_revision(url: str | None = None) -> str | None:
    with engine_for(url or get_settings().database_url).connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(url: str | None = None, revision: str = "head") -> None:
    """Bring the database to `revision`, holding a lock so concurrent starts do not race."""
    with engine_for(url or get_settings().database_url).connect() as connection:
        _lock(connection)
        command.upgrade(_config(connection), revision)
        connection.commit()


def downgrade(url: str | None = None, revision: str = "-1") -> None:
    with engine_for(url or get_settings().database_url).connect() as connection:
        _lock(connection)
        command.downgrade(_config(connection), revision)
        connection.commit()


def ensure_current(url: str | None = None) -> bool:
    """Upgrade when behind. Returns True when a migration ran."""
    if current_revision(url) == head_revision():
        return False
    log.info("migrating database to %s", head_revision())
    upgrade(url)
    return True


def _lock(connection: Connection) -> None:
    # Transaction-scoped, so it is released by the commit that ends the migration.
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": MIGRATION_LOCK_ID})
