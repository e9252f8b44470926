"""When a customer was erased at their request (their personal data removed, their orders kept
as anonymous aggregates).

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

from core.migrations.columns import timestamp

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("customers", timestamp("erased_at", nullable=True))


def downgrade() -> None:
    op.drop_column("customers", "erased_at")
