"""Server-side sign-in sessions and the failed sign-ins behind the per-address brake.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from core.migrations.columns import foreign_key, id_column, timestamp

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "user_sessions",
        id_column(),
        foreign_key("user_id", "users.id", "CASCADE", nullable=False, index=True),
        sa.Column("token_hash", sa.String(64), unique=True),
        sa.Column("grant_hash", sa.String(64), unique=True),
        timestamp("grant_expires_at", nullable=True),
        sa.Column("client", sa.String(64), nullable=False),
        timestamp("created_at"),
        timestamp("last_seen_at"),
        timestamp("expires_at"),
        timestamp("ended_at", nullable=True),
        sa.Column("end_reason", sa.String(40)),
    )
    op.create_table(
        "sign_in_failures",
        id_column(),
        sa.Column("client", sa.String(64), nullable=False, index=True),
        sa.Column("email", sa.String(254), nullable=False),
        timestamp("at", index=True),
    )


def downgrade() -> None:
    op.drop_table("sign_in_failures")
    op.drop_table("user_sessions")
