"""Mailgun signature tokens, remembered for their freshness window to refuse replays.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from core.migrations.columns import timestamp

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "webhook_tokens",
        sa.Column("token", sa.String(128), primary_key=True),
        sa.Column("event_id", sa.String(120), nullable=False),
        timestamp("seen_at", index=True),
    )


def downgrade() -> None:
    op.drop_table("webhook_tokens")
