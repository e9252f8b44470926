"""Foundation tables.

users, customers, products, orders, order_items, events, jobs, audit_log, settings.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from core.db import BigIntPK, JSONType, UTCDateTime
from core.migrations.columns import foreign_key as _fk
from core.migrations.columns import id_column as _id
from core.migrations.columns import timestamp as _ts

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "users",
        _id(),
        sa.Column("email", sa.String(254), nullable=False, unique=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("password_hash", sa.String(100), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("must_change_password", sa.Boolean(), nullable=False),
        sa.Column("failed_login_count", sa.Integer(), nullable=False),
        _ts("locked_until", nullable=True),
        _ts("last_login_at", nullable=True),
        _ts("created_at"),
        _ts("updated_at"),
    )
    op.create_table(
        "customers",
        _id(),
        sa.Column("external_id", sa.String(64), unique=True),
        sa.Column("email", sa.String(254), index=True),
        sa.Column("phone", sa.String(20), index=True),
        sa.Column("first_name", sa.String(100), nullable=False),
        sa.Column("last_name", sa.String(100), nullable=False),
        sa.Column("birth_date", sa.Date()),
        sa.Column("age_verified", sa.Boolean(), nullable=False),
        sa.Column("address", sa.String(200), nullable=False),
        sa.Column("city", sa.String(100), nullable=False),
        sa.Column("state", sa.String(2), nullable=False),
        sa.Column("zip", sa.String(10), nullable=False, index=True),
        sa.Column("timezone", sa.String(64)),
        sa.Column("email_opt_in", sa.Boolean(), nullable=False),
        _ts("email_opt_in_at", nullable=True),
        sa.Column("email_consent_source", sa.String(40)),
        sa.Column("email_status", sa.String(20), nullable=False),
        sa.Column("sms_opt_in", sa.Boolean(), nullable=False),
        _ts("sms_opt_in_at", nullable=True),
        sa.Column("sms_consent_source", sa.String(40)),
        sa.Column("sms_status", sa.String(20), nullable=False),
        sa.Column("order_count", sa.Integer(), nullable=False),
        sa.Column("total_spent_cents", sa.BigInteger(), nullable=False),
        _ts("first_order_at", nullable=True),
        sa.Column("last_order_at", UTCDateTime(), index=True),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False, index=True),
        _ts("updated_at"),
        _ts("deleted_at", nullable=True),
    )
    op.create_table(
        "products",
        _id(),
        sa.Column("sku", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("category", sa.String(20), nullable=False, index=True),
        sa.Column("subcategory", sa.String(60), nullable=False),
        sa.Column("price_cents", sa.Integer(), nullable=False),
        sa.Column("cost_cents", sa.Integer()),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        _ts("created_at"),
    )
    op.create_table(
        "orders",
        _id(),
        sa.Column("external_id", sa.String(64), unique=True),
        _fk("customer_id", "customers.id", "RESTRICT", nullable=False),
        sa.Column("ordered_at", UTCDateTime(), nullable=False, index=True),
        sa.Column("total_cents", sa.BigInteger(), nullable=False),
        sa.Column("discount_cents", sa.BigInteger(), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        _ts("created_at"),
        sa.Index("ix_orders_customer_id_ordered_at", "customer_id", "ordered_at"),
    )
    op.create_table(
        "order_items",
        _id(),
        sa.Column(
            "order_id",
            BigIntPK,
            sa.ForeignKey("orders.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column(
            "product_id", BigIntPK, sa.ForeignKey("products.id", ondelete="SET NULL"), index=True
        ),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("category", sa.String(20), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price_cents", sa.Integer(), nullable=False),
        sa.Column("line_total_cents", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "events",
        _id(),
        sa.Column("type", sa.String(40), nullable=False),
        _ts("occurred_at"),
        _fk("customer_id", "customers.id", "SET NULL"),
        sa.Column("campaign_id", sa.BigInteger(), index=True),
        sa.Column("message_id", sa.BigInteger(), index=True),
        _fk("user_id", "users.id", "SET NULL"),
        sa.Column("amount_cents", sa.BigInteger()),
        sa.Column("data", JSONType, nullable=False),
        sa.Index("ix_events_type_occurred_at", "type", "occurred_at"),
        sa.Index("ix_events_customer_id_occurred_at", "customer_id", "occurred_at"),
    )
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("kind", sa.String(60), nullable=False, index=True),
        sa.Column("args", JSONType, nullable=False),
        sa.Column("status", sa.String(20), nullable=False, index=True),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("message", sa.String(200), nullable=False),
        sa.Column("counts", JSONType, nullable=False),
        sa.Column("result", JSONType, nullable=False),
        sa.Column("error", sa.Text()),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _fk("created_by", "users.id", "SET NULL"),
        sa.Column("created_at", UTCDateTime(), nullable=False, index=True),
        _ts("started_at", nullable=True),
        _ts("finished_at", nullable=True),
        _ts("updated_at"),
    )
    op.create_table(
        "audit_log",
        _id(),
        sa.Column("at", UTCDateTime(), nullable=False, index=True),
        _fk("user_id", "users.id", "SET NULL"),
        sa.Column("actor", sa.String(254), nullable=False),
        sa.Column("action", sa.String(60), nullable=False),
        sa.Column("entity_type", sa.String(40), nullable=False),
        sa.Column("entity_id", sa.String(64)),
        sa.Column("changes", JSONType, nullable=False),
    )
    op.create_table(
        "settings",
        sa.Column("key", sa.String(100), primary_key=True),
        sa.Column("value", JSONType, nullable=False),
        _ts("updated_at"),
    )


def downgrade() -> None:
    for table in (
        "settings",
        "audit_log",
        "jobs",
        "events",
        "order_items",
        "orders",
        "products",
        "customers",
        "users",
    ):
        op.drop_table(table)
