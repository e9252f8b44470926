"""Numbers part-way through a keyword sign-up for texts (double opt-in).

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from core.migrations.columns import timestamp

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sms_signups",
        sa.Column("number", sa.String(20), primary_key=True),
        sa.Column("stage", sa.String(12), nullable=False),
        sa.Column("keyword", sa.String(40), nullable=False),
        sa.Column("birth_date", sa.Date()),
        timestamp("started_at"),
    )


def downgrade() -> None:
    op.drop_table("sms_signups")
