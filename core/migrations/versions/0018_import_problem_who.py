"""Import problems name the row's customer (or order) as the file gives it.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("import_errors") as table:
        table.add_column(sa.Column("who", sa.String(120), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("import_errors") as table:
        table.drop_column("who")
