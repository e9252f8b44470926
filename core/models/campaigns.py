from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, BigIntPK, StrEnumType, utc_now
from core.models.customers import Channel


class CampaignStatus(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"
    ARCHIVED = "archived"


class CampaignType(StrEnum):
    PROMOTION = "promotion"
    WIN_BACK = "win_back"
    NEW_PRODUCT = "new_product"
    EVENT = "event"
    HOLIDAY = "holiday"
    RE_ENGAGEMENT = "re_engagement"


class PlanSource(StrEnum):
    AI = "ai"
    HEURISTIC = "heuristic"
    MANUAL = "manual"


class Audience(StrEnum):
    """Whom a running campaign messages."""

    SEGMENTS = "segments"
    """Everyone reachable in its segments, on each step's channel."""
    APPROVED = "approved"
    """Only customers whose action staff approved, each with their personal offer."""


class StepStatus(StrEnum):
    PLANNED = "planned"
    """Waiting to be written into the outbox (the day before it is due, or at once)."""
    QUEUED = "queued"
    """Its messages are in the outbox."""


class Campaign(Base):
    """A marketing push: who it is for, when, on which channels, and its plan of sends."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    type: Mapped[CampaignType] = mapped_column(
        StrEnumType(CampaignType, 20), default=CampaignType.PROMOTION
    )
    goal: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[CampaignStatus] = mapped_column(
        StrEnumType(CampaignStatus, 12), default=CampaignStatus.DRAFT, index=True
    )
    status_note: Mapped[str] = mapped_column(Text, default="")
    """Why the campaign is in its status, when a person or the system paused or stopped it."""
    starts_at: Mapped[datetime | None] = mapped_column(index=True)
    ends_at: Mapped[datetime | None]
    segment_ids: Mapped[list[Any]] = mapped_column(default=list)
    excluded_segment_ids: Mapped[list[Any]] = mapped_column(default=list)
    channels: Mapped[list[Any]] = mapped_column(default=lambda: [Channel.EMAIL.value])
    audience: Mapped[Audience] = mapped_column(
        StrEnumType(Audience, 12), default=Audience.SEGMENTS, server_default="segments"
    )
    budget_cents: Mapped[int | None] = mapped_column(BigInteger)
    max_discount_percent: Mapped[int] = mapped_column(default=25)
    holdout_percent: Mapped[int] = mapped_column(default=0, server_default="0")
    """Share of the audience kept back as a control group, never messaged: the same customers at
    every step, so the campaign's incremental lift compares like with like. New campaigns get
    `campaigns.DEFAULT_HOLDOUT_PERCENT` from their details; none where nothing asked for one."""
    plan_source: Mapped[PlanSource | None] = mapped_column(StrEnumType(PlanSource, 12))
    plan_note: Mapped[str] = mapped_column(Text, default="")
    plan_meta: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """Model, token use and cost, what validation repaired, the cache key."""
    builder_step: Mapped[int] = mapped_column(default=1)
    duplicated_from: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="SET NULL")
    )
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)
    scheduled_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    archived_at: Mapped[datetime | None]
    supplier: Mapped[str] = mapped_column(String(120), default="", server_default="")
    """The supplier paying for the campaign (co-op), if one does: tied-house rules (27 CFR 6.51)
    then want an admin's sign-off before it is scheduled."""
    signed_off_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    signed_off_at: Mapped[datetime | None]

    def void_sign_off(self) -> None:
        """A sign-off holds for the campaign as it was signed: a change asks for another."""
        self.signed_off_at = self.signed_off_by = None

    @property
    def control_percent(self) -> int:
        """The share actually kept back: none when the campaign messages approved actions only
        (a person chose each of those customers; the draw does not overrule them)."""
        return self.holdout_percent if self.audience == Audience.SEGMENTS else 0

    steps: Mapped[list[CampaignStep]] = relationship(
        back_populates="campaign",
        cascade="all, delete-orphan",
        order_by="CampaignStep.position",
        passive_deletes=True,
    )


class CampaignStep(Base):
    """One planned send: a day and local time, a segment, a channel, an offer, an angle."""

    __tablename__ = "campaign_steps"
    __table_args__ = (UniqueConstraint("campaign_id", "position"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    position: Mapped[int]
    day: Mapped[date]
    local_time: Mapped[str] = mapped_column(String(5))
    """HH:MM in each recipient's own time zone."""
    segment_id: Mapped[int | None] = mapped_column(ForeignKey("segments.id", ondelete="SET NULL"))
    channel: Mapped[Channel] = mapped_column(StrEnumType(Channel, 10))
    offer_kind: Mapped[str] = mapped_column(String(20))
    offer_value: Mapped[float] = mapped_column(default=0.0)
    offer_category: Mapped[str | None] = mapped_column(String(20))
    offer_description: Mapped[str] = mapped_column(String(200), default="")
    angle: Mapped[str] = mapped_column(Text, default="")
    template_id: Mapped[int | None] = mapped_column(ForeignKey("templates.id", ondelete="SET NULL"))
    """The message to send; None means the default template for the campaign type and channel."""
    expected_reach: Mapped[int] = mapped_column(default=0)
    expected_cost_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[StepStatus] = mapped_column(
        StrEnumType(StepStatus, 12), default=StepStatus.PLANNED
    )

    campaign: Mapped[Campaign] = relationship(back_populates="steps")


class ActionStatus(StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    SKIPPED = "skipped"
    DONE = "done"


class Action(Base):
    """A suggested next step for one customer: what to offer, on which channel, by when."""

    __tablename__ = "actions"
    __table_args__ = (
        UniqueConstraint("run_id", "customer_id"),
        Index("ix_actions_campaign_id_priority", "campaign_id", "priority"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    step_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaign_steps.id", ondelete="SET NULL")
    )
    run_id: Mapped[str] = mapped_column(String(36), index=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    priority: Mapped[float]
    reasons: Mapped[list[Any]] = mapped_column(default=list)
    """The top factors behind the priority, in words, biggest first."""
    channel: Mapped[Channel] = mapped_column(StrEnumType(Channel, 10))
    offer_kind: Mapped[str] = mapped_column(String(20))
    offer_value: Mapped[float] = mapped_column(default=0.0)
    offer_category: Mapped[str | None] = mapped_column(String(20))
    offer_description: Mapped[str] = mapped_column(String(200), default="")
    due_at: Mapped[datetime]
    status: Mapped[ActionStatus] = mapped_column(
        StrEnumType(ActionStatus, 12), default=ActionStatus.PROPOSED, index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None]
    done_at: Mapped[datetime | None]
    """When its message was delivered, or staff marked a call or in-store action done."""
    outcome: Mapped[str] = mapped_column(String(20), default="", server_default="")
    """How far the customer went: delivered, opened, clicked (purchased with attribution)."""


class PlanCache(Base):
    """A plan already paid for, by the hash of everything the planner was given."""

    __tablename__ = "plan_cache"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    plan: Mapped[dict[str, Any]]
    meta: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class CampaignResult(Base):
    """A campaign's results (revenue, lift, figures) as computed at `stamp`, the state of the
    data; kept up to date by a job after imports and sends, read by the dashboard."""

    __tablename__ = "campaign_results"

    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    stamp: Mapped[str] = mapped_column(String(64))
    computed_at: Mapped[datetime]
    value: Mapped[dict[str, Any]]
