"""Customer scores, consent log, segments, imports, and customer search indexes.

Search is a prefix search over indexed expressions (lowercased names, email, phone), the same on
both backends; see core.customers for why not trigram or full-text indexes.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from core.db import BigIntPK, JSONType
from core.migrations.columns import foreign_key, id_column, timestamp

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def score_columns() -> list[sa.Column]:
    return [
        sa.Column("r_score", sa.SmallInteger()),
        sa.Column("f_score", sa.SmallInteger()),
        sa.Column("m_score", sa.SmallInteger()),
        sa.Column("rfm_segment", sa.String(30)),
        sa.Column("p_alive", sa.Double()),
        sa.Column("churn_risk", sa.String(10)),
        sa.Column("expected_orders", sa.Double()),
        sa.Column("predicted_clv_cents", sa.BigInteger()),
        sa.Column("preferred_category", sa.String(20)),
        sa.Column("average_order_cents", sa.BigInteger()),
        sa.Column("days_between_orders", sa.Double()),
        sa.Column("next_order_expected_on", sa.Date()),
        timestamp("scored_at", nullable=True),
    ]


NEW_CUSTOMER_INDEXES = ("total_spent_cents",)
NAME_INDEXES = {
    "ix_customers_first_name_lower": "lower(first_name)",
    "ix_customers_last_name_lower": "lower(last_name)",
}


def upgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        for column in score_columns():
            batch.add_column(column)
        for name in NEW_CUSTOMER_INDEXES:
            batch.create_index(f"ix_customers_{name}", [name])
    postgres = op.get_bind().dialect.name == "postgresql"
    # On PostgreSQL, text_pattern_ops lets LIKE 'prefix%' use the index whatever the collation;
    # SQLite's plain indexes answer the equivalent range queries.
    ops = " text_pattern_ops" if postgres else ""
    for name, expression in NAME_INDEXES.items():
        op.create_index(name, "customers", [sa.text(expression + ops)])
    if postgres:
        for column in ("email", "phone"):
            op.drop_index(f"ix_customers_{column}", "customers")
            op.create_index(f"ix_customers_{column}", "customers", [sa.text(f"{column}{ops}")])

    op.create_table(
        "consent_log",
        id_column(),
        foreign_key("customer_id", "customers.id", "SET NULL", index=True),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("address", sa.String(254)),
        sa.Column("source", sa.String(40), nullable=False),
        timestamp("recorded_at"),
        foreign_key("user_id", "users.id", "SET NULL"),
        sa.Column("import_id", sa.String(36)),
        sa.Column("details", JSONType, nullable=False),
    )
    op.create_table(
        "segments",
        id_column(),
        sa.Column("name", sa.String(120), nullable=False, unique=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("rules", JSONType),
        sa.Column("member_count", sa.Integer(), nullable=False),
        timestamp("refreshed_at", nullable=True),
        foreign_key("created_by", "users.id", "SET NULL"),
        timestamp("created_at"),
        timestamp("updated_at"),
    )
    op.create_table(
        "segment_members",
        sa.Column(
            "segment_id",
            BigIntPK,
            sa.ForeignKey("segments.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "customer_id",
            BigIntPK,
            sa.ForeignKey("customers.id", ondelete="CASCADE"),
            primary_key=True,
            index=True,
        ),
        timestamp("added_at"),
    )
    op.create_table(
        "imports",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("stored_path", sa.String(500), nullable=False),
        sa.Column("file_size", sa.Integer(), nullable=False),
        sa.Column("encoding", sa.String(20), nullable=False),
        sa.Column("delimiter", sa.String(2), nullable=False),
        sa.Column("header", JSONType, nullable=False),
        sa.Column("header_row", sa.Integer(), nullable=False),
        sa.Column("mapping", JSONType, nullable=False),
        sa.Column("options", JSONType, nullable=False),
        sa.Column("status", sa.String(20), nullable=False, index=True),
        sa.Column("total_rows", sa.Integer()),
        *(
            sa.Column(name, sa.Integer(), nullable=False)
            for name in (
                "processed_rows",
                "checkpoint_row",
                "inserted",
                "updated",
                "skipped",
                "failed",
                "warnings",
            )
        ),
        sa.Column("error", sa.Text()),
        sa.Column("job_id", sa.String(36)),
        foreign_key("created_by", "users.id", "SET NULL"),
        timestamp("created_at", index=True),
        timestamp("started_at", nullable=True),
        timestamp("finished_at", nullable=True),
    )
    op.create_table(
        "import_errors",
        id_column(),
        sa.Column(
            "import_id",
            sa.String(36),
            sa.ForeignKey("imports.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(60), nullable=False),
        sa.Column("value", sa.String(200), nullable=False),
        sa.Column("message", sa.String(300), nullable=False),
        sa.Column("severity", sa.String(10), nullable=False),
        sa.Index("ix_import_errors_import_id_row_number", "import_id", "row_number"),
    )


def downgrade() -> None:
    for name in NAME_INDEXES:
        op.drop_index(name, "customers")
    if op.get_bind().dialect.name == "postgresql":
        for column in ("email", "phone"):
            op.drop_index(f"ix_customers_{column}", "customers")
            op.create_index(f"ix_customers_{column}", "customers", [column])
    for table in ("import_errors", "imports", "segment_members", "segments", "consent_log"):
        op.drop_table(table)
    with op.batch_alter_table("customers") as batch:
        for name in NEW_CUSTOMER_INDEXES:
            batch.drop_index(f"ix_customers_{name}")
        for column in score_columns():
            batch.drop_column(column.name)
