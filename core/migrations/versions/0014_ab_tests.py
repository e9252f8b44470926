"""A/B tests on campaign steps: the tests, their variants, and the variant each message carries.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from core.migrations.columns import foreign_key, id_column, timestamp

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ab_tests",
        id_column(),
        foreign_key("campaign_id", "campaigns.id", "CASCADE", nullable=False, index=True),
        foreign_key("step_id", "campaign_steps.id", "CASCADE", nullable=False),
        sa.Column("metric", sa.String(24), nullable=False),
        sa.Column("confidence", sa.Double(), nullable=False),
        sa.Column("baseline_rate", sa.Double(), nullable=False),
        sa.Column("min_effect", sa.Double(), nullable=False),
        sa.Column("sample_per_variant", sa.Integer, nullable=False),
        sa.Column("test_percent", sa.Integer, nullable=False),
        sa.Column("wait_hours", sa.Integer, nullable=False),
        sa.Column("status", sa.String(14), nullable=False),
        sa.Column("winner", sa.Integer),
        sa.Column("decision", sa.Text, nullable=False),
        foreign_key("decided_by", "users.id", "SET NULL"),
        timestamp("decided_at", nullable=True),
        timestamp("rolled_out_at", nullable=True),
        timestamp("created_at"),
        sa.UniqueConstraint("step_id"),
    )
    op.create_table(
        "ab_variants",
        id_column(),
        foreign_key("test_id", "ab_tests.id", "CASCADE", nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("weight", sa.Integer, nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        foreign_key("template_id", "templates.id", "SET NULL"),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("local_time", sa.String(5), nullable=False),
        sa.Column("offer_kind", sa.String(20), nullable=False),
        sa.Column("offer_value", sa.Double(), nullable=False),
        sa.Column("offer_category", sa.String(20)),
        sa.Column("offer_description", sa.String(200), nullable=False),
        sa.UniqueConstraint("test_id", "position"),
    )
    op.add_column("messages", sa.Column("variant", sa.Integer, nullable=True))


def downgrade() -> None:
    op.drop_column("messages", "variant")
    op.drop_table("ab_variants")
    op.drop_table("ab_tests")
