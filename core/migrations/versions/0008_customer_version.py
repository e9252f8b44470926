"""A version on each customer, so an edit made from an outdated form is refused.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain ALTER TABLE on both databases (SQLite adds and drops a column in place since 3.35): a
# batch table copy would lose the lower(name) indexes SQLite cannot reflect.


def upgrade() -> None:
    op.add_column(
        "customers",
        sa.Column("version", sa.Integer(), nullable=False, server_default=sa.text("1")),
    )


def downgrade() -> None:
    op.drop_column("customers", "version")
