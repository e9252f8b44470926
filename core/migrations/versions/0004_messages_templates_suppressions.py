"""Messaging: templates, the outbox of messages, suppressions, and de-duplicated events.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from core.migrations.columns import foreign_key, id_column, timestamp

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "templates",
        id_column(),
        sa.Column("name", sa.String(120), nullable=False, unique=True),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("campaign_type", sa.String(20)),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("preheader", sa.String(200), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        foreign_key("created_by", "users.id", "SET NULL"),
        timestamp("created_at"),
        timestamp("updated_at"),
    )
    op.create_table(
        "messages",
        id_column(),
        sa.Column("key", sa.String(80), nullable=False, unique=True),
        foreign_key("campaign_id", "campaigns.id", "CASCADE"),
        foreign_key("step_id", "campaign_steps.id", "SET NULL"),
        foreign_key("customer_id", "customers.id", "SET NULL", index=True),
        foreign_key("template_id", "templates.id", "SET NULL"),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("to_address", sa.String(254), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        timestamp("send_after"),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_by", sa.String(36)),
        timestamp("claimed_at", nullable=True),
        sa.Column("provider", sa.String(20)),
        sa.Column("provider_message_id", sa.String(120), index=True),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("segments", sa.Integer(), nullable=False),
        sa.Column("cost_cents", sa.Double(), nullable=False),
        sa.Column("error_code", sa.String(40)),
        sa.Column("error", sa.Text(), nullable=False),
        timestamp("created_at"),
        timestamp("sent_at", nullable=True),
        timestamp("delivered_at", nullable=True),
        timestamp("opened_at", nullable=True),
        timestamp("clicked_at", nullable=True),
        timestamp("failed_at", nullable=True),
        sa.Index("ix_messages_status_send_after", "status", "send_after"),
        sa.Index("ix_messages_campaign_id_status", "campaign_id", "status"),
    )
    op.create_table(
        "suppressions",
        id_column(),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("address", sa.String(254), nullable=False),
        sa.Column("reason", sa.String(20), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("message_id", sa.BigInteger()),
        timestamp("created_at"),
        sa.UniqueConstraint("channel", "address"),
    )
    with op.batch_alter_table("campaign_steps") as batch:
        batch.add_column(foreign_key("template_id", "templates.id", "SET NULL"))
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("dedupe_key", sa.String(120)))
        batch.create_unique_constraint("uq_events_dedupe_key", ["dedupe_key"])


def downgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.drop_constraint("uq_events_dedupe_key", type_="unique")
        batch.drop_column("dedupe_key")
    with op.batch_alter_table("campaign_steps") as batch:
        batch.drop_column("template_id")
    for table in ("suppressions", "messages", "templates"):
        op.drop_table(table)
