from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, BigIntPK, StrEnumType, utc_now
from core.models.customers import Channel


class Metric(StrEnum):
    """What a test is judged by, per recipient who was really sent a message."""

    CLICK_RATE = "click_rate"
    CONVERSION_RATE = "conversion_rate"
    """Bought within the store's click window after the message, or redeemed its code."""
    REVENUE_PER_RECIPIENT = "revenue_per_recipient"

    @property
    def words(self) -> str:
        return self.value.replace("_", " ")


class TestStatus(StrEnum):
    __test__ = False  # not a pytest class

    RUNNING = "running"
    """Collecting results; no winner can be declared before the planned sample is in."""
    DECIDED = "decided"
    """A winner was declared (or chosen); the rest of the audience, if any, waits for it."""
    ROLLED_OUT = "rolled_out"
    """The winner's messages to the rest of the audience are written."""
    INCONCLUSIVE = "inconclusive"
    """The planned sample was reached and no variant won: a person chooses."""


class ABTest(Base):
    """A test on one campaign step: its variants split the step's audience (the campaign's
    control group kept apart), judged by one metric under a fixed horizon."""

    __tablename__ = "ab_tests"
    __test__ = False  # not a pytest class

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), index=True
    )
    step_id: Mapped[int] = mapped_column(
        ForeignKey("campaign_steps.id", ondelete="CASCADE"), unique=True
    )
    metric: Mapped[Metric] = mapped_column(StrEnumType(Metric, 24))
    confidence: Mapped[float] = mapped_column(default=0.95)
    baseline_rate: Mapped[float]
    """The rate the first variant is expected to reach (from the store's history)."""
    min_effect: Mapped[float]
    """The smallest change worth detecting, absolute (0.02 = 2 points)."""
    sample_per_variant: Mapped[int]
    """Recipients each variant needs before any verdict (the fixed horizon)."""
    test_percent: Mapped[int] = mapped_column(default=100)
    """Share of the audience in the test; the winner goes to the rest (100: no rollout)."""
    wait_hours: Mapped[int] = mapped_column(default=48)
    """How long after the last test message results are final enough to judge."""
    status: Mapped[TestStatus] = mapped_column(
        StrEnumType(TestStatus, 14), default=TestStatus.RUNNING
    )
    winner: Mapped[int | None]
    """The winning variant's position."""
    decision: Mapped[str] = mapped_column(Text, default="")
    """Why the winner won, or why there is none, in words."""
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    """Who chose the winner; None when the statistics declared it."""
    decided_at: Mapped[datetime | None]
    rolled_out_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utc_now)

    variants: Mapped[list[ABVariant]] = relationship(
        back_populates="test",
        cascade="all, delete-orphan",
        order_by="ABVariant.position",
        passive_deletes=True,
    )

    @property
    def weights(self) -> list[int]:
        return [v.weight for v in self.variants]


class ABVariant(Base):
    """One version of the step: the whole send as this variant makes it (a copy of the step's
    send with one or more things changed)."""

    __tablename__ = "ab_variants"
    __table_args__ = (UniqueConstraint("test_id", "position"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    test_id: Mapped[int] = mapped_column(ForeignKey("ab_tests.id", ondelete="CASCADE"))
    position: Mapped[int]
    """0 for A (the control every other variant is compared with), 1 for B …"""
    weight: Mapped[int] = mapped_column(default=50)
    subject: Mapped[str] = mapped_column(String(200), default="")
    """Replaces the template's subject when set (email)."""
    template_id: Mapped[int | None] = mapped_column(ForeignKey("templates.id", ondelete="SET NULL"))
    channel: Mapped[Channel] = mapped_column(StrEnumType(Channel, 10))
    local_time: Mapped[str] = mapped_column(String(5))
    offer_kind: Mapped[str] = mapped_column(String(20))
    offer_value: Mapped[float] = mapped_column(default=0.0)
    offer_category: Mapped[str | None] = mapped_column(String(20))
    offer_description: Mapped[str] = mapped_column(String(200), default="")

    test: Mapped[ABTest] = relationship(back_populates="variants")

    @property
    def name(self) -> str:
        return chr(ord("A") + self.position)
