"""Attribution: the offer code each message carried, the promo code an order was rung up with,
and the share of a campaign's audience kept back as its control group.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Plain ALTER TABLE on both databases, as in 0008. Campaigns that exist already keep no
# control group (their earlier sends went to everyone); new ones default to 10 % in the model.


def upgrade() -> None:
    op.add_column("messages", sa.Column("offer_code", sa.String(12), nullable=True))
    op.create_index("ix_messages_offer_code", "messages", ["offer_code"], unique=True)
    op.add_column("orders", sa.Column("promo_code", sa.String(40), nullable=True))
    op.create_index("ix_orders_promo_code", "orders", ["promo_code"])
    op.add_column(
        "campaigns",
        sa.Column("holdout_percent", sa.Integer(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    op.drop_column("campaigns", "holdout_percent")
    op.drop_index("ix_orders_promo_code", table_name="orders")
    op.drop_column("orders", "promo_code")
    op.drop_index("ix_messages_offer_code", table_name="messages")
    op.drop_column("messages", "offer_code")
