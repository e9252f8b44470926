"""Who a campaign messages (everyone reachable, or only approved actions), the action behind a
message, and an action's outcome.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Plain ALTER TABLE on both databases, as in 0008.


def upgrade() -> None:
    op.add_column(
        "campaigns",
        sa.Column("audience", sa.String(12), nullable=False, server_default="segments"),
    )
    op.add_column("messages", sa.Column("action_id", sa.BigInteger(), nullable=True))
    op.create_index("ix_messages_action_id", "messages", ["action_id"])
    op.add_column("actions", sa.Column("done_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("actions", sa.Column("outcome", sa.String(20), nullable=False, server_default=""))


def downgrade() -> None:
    op.drop_column("actions", "outcome")
    op.drop_column("actions", "done_at")
    op.drop_index("ix_messages_action_id", table_name="messages")
    op.drop_column("messages", "action_id")
    op.drop_column("campaigns", "audience")
