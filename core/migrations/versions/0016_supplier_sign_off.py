"""Supplier-funded (co-op) campaigns: who pays, and the admin's compliance sign-off.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from core.migrations.columns import foreign_key, timestamp

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A batch: SQLite adds a column with a foreign key only by copying the table.
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(sa.Column("supplier", sa.String(120), nullable=False, server_default=""))
        batch.add_column(foreign_key("signed_off_by", "users.id", "SET NULL"))
        batch.add_column(timestamp("signed_off_at", nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        for column in ("signed_off_at", "signed_off_by", "supplier"):
            batch.drop_column(column)
