"""Analytics: the dashboard finds a period's messages by when they were sent, and cohorts find
their customers by their first order.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_messages_sent_at", "messages", ["sent_at"])
    op.create_index("ix_customers_first_order_at", "customers", ["first_order_at"])


def downgrade() -> None:
    op.drop_index("ix_customers_first_order_at", table_name="customers")
    op.drop_index("ix_messages_sent_at", table_name="messages")
