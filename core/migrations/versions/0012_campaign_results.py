"""Campaign results kept for the dashboard: each campaign's revenue, lift and figures as
computed at a state of the data, refreshed by a job after imports and sends.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from core.db import BigIntPK, JSONType
from core.migrations.columns import timestamp

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "campaign_results",
        sa.Column(
            "campaign_id",
            BigIntPK,
            sa.ForeignKey("campaigns.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("stamp", sa.String(64), nullable=False),
        timestamp("computed_at"),
        sa.Column("value", JSONType, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("campaign_results")
