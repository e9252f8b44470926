"""Campaigns with their planned sends, per-customer actions, and the planner's cache.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from core.db import JSONType
from core.migrations.columns import foreign_key, id_column, timestamp

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def offer_columns() -> list[sa.Column]:
    return [
        sa.Column("offer_kind", sa.String(20), nullable=False),
        sa.Column("offer_value", sa.Double(), nullable=False),
        sa.Column("offer_category", sa.String(20)),
        sa.Column("offer_description", sa.String(200), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "campaigns",
        id_column(),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("type", sa.String(20), nullable=False),
        sa.Column("goal", sa.Text(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False, index=True),
        sa.Column("status_note", sa.Text(), nullable=False),
        timestamp("starts_at", nullable=True, index=True),
        timestamp("ends_at", nullable=True),
        sa.Column("segment_ids", JSONType, nullable=False),
        sa.Column("excluded_segment_ids", JSONType, nullable=False),
        sa.Column("channels", JSONType, nullable=False),
        sa.Column("budget_cents", sa.BigInteger()),
        sa.Column("max_discount_percent", sa.Integer(), nullable=False),
        sa.Column("plan_source", sa.String(12)),
        sa.Column("plan_note", sa.Text(), nullable=False),
        sa.Column("plan_meta", JSONType, nullable=False),
        sa.Column("builder_step", sa.Integer(), nullable=False),
        foreign_key("duplicated_from", "campaigns.id", "SET NULL"),
        foreign_key("created_by", "users.id", "SET NULL"),
        timestamp("created_at"),
        timestamp("updated_at"),
        timestamp("scheduled_at", nullable=True),
        timestamp("started_at", nullable=True),
        timestamp("completed_at", nullable=True),
        timestamp("archived_at", nullable=True),
    )
    op.create_table(
        "campaign_steps",
        id_column(),
        foreign_key("campaign_id", "campaigns.id", "CASCADE", nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("local_time", sa.String(5), nullable=False),
        foreign_key("segment_id", "segments.id", "SET NULL"),
        sa.Column("channel", sa.String(10), nullable=False),
        *offer_columns(),
        sa.Column("angle", sa.Text(), nullable=False),
        sa.Column("expected_reach", sa.Integer(), nullable=False),
        sa.Column("expected_cost_cents", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.UniqueConstraint("campaign_id", "position"),
    )
    op.create_table(
        "actions",
        id_column(),
        foreign_key("campaign_id", "campaigns.id", "CASCADE", nullable=False),
        foreign_key("step_id", "campaign_steps.id", "SET NULL"),
        sa.Column("run_id", sa.String(36), nullable=False, index=True),
        foreign_key("customer_id", "customers.id", "CASCADE", nullable=False, index=True),
        sa.Column("priority", sa.Double(), nullable=False),
        sa.Column("reasons", JSONType, nullable=False),
        sa.Column("channel", sa.String(10), nullable=False),
        *offer_columns(),
        timestamp("due_at"),
        sa.Column("status", sa.String(12), nullable=False, index=True),
        timestamp("created_at"),
        foreign_key("decided_by", "users.id", "SET NULL"),
        timestamp("decided_at", nullable=True),
        sa.UniqueConstraint("run_id", "customer_id"),
        sa.Index("ix_actions_campaign_id_priority", "campaign_id", "priority"),
    )
    op.create_table(
        "plan_cache",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("plan", JSONType, nullable=False),
        sa.Column("meta", JSONType, nullable=False),
        timestamp("created_at"),
    )


def downgrade() -> None:
    for table in ("plan_cache", "actions", "campaign_steps", "campaigns"):
        op.drop_table(table)
