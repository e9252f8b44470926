"""The generated secret key leaves the database.

Earlier versions generated a key when SECRET_KEY was unset and kept it in the settings table,
where a copy of the database could sign links. On SQLite it moves to `secret.key` beside the
database file (owner-only), so links already sent keep working. On PostgreSQL every process must
share SECRET_KEY, which the app now requires; an install that ran without one keeps its old key
in the row until an operator sets SECRET_KEY to it (README, "Upgrading") and deletes the row.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

import os
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROW = "secret_key"
KEY_FILE_NAME = "secret.key"


def upgrade() -> None:
    bind = op.get_bind()
    database = bind.engine.url.database
    if bind.dialect.name != "sqlite" or not database or database == ":memory:":
        return
    settings = sa.table("settings", sa.column("key", sa.String), sa.column("value", sa.JSON))
    stored = bind.execute(sa.select(settings.c.value).where(settings.c.key == ROW)).scalar()
    if not stored:
        return
    path = Path(database).resolve().parent / KEY_FILE_NAME
    if not path.exists():
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(stored["value"])
    bind.execute(sa.delete(settings).where(settings.c.key == ROW))


def downgrade() -> None:
    """The key stays in its file: putting a secret back into the database is not a step back
    anyone needs."""
