"""Dashboard figures kept in the database: the preset periods' key figures, the cohorts and the
churn by month, each as computed at a state of the data, refreshed by the results job.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from core.db import JSONType
from core.migrations.columns import timestamp

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "analytics_snapshots",
        sa.Column("key", sa.String(160), primary_key=True),
        sa.Column("stamp", sa.String(64), nullable=False),
        timestamp("computed_at"),
        sa.Column("value", JSONType, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("analytics_snapshots")
