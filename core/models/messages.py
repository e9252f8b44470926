from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, BigIntPK, StrEnumType, utc_now
from core.models.customers import Channel


class Template(Base):
    """A message a marketer writes once and sends many times: Jinja2 with the customer's,
    offer's and store's variables, rendered in a sandbox."""

    __tablename__ = "templates"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    channel: Mapped[Channel] = mapped_column(StrEnumType(Channel, 10))
    campaign_type: Mapped[str | None] = mapped_column(String(20))
    """The campaign type this is the default for, if any (one per type and channel)."""
    subject: Mapped[str] = mapped_column(String(200), default="")
    preheader: Mapped[str] = mapped_column(String(200), default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    body_text: Mapped[str] = mapped_column(Text, default="")
    """The plain-text part of an email, or the whole of a text message."""
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)


class MessageStatus(StrEnum):
    QUEUED = "queued"
    """Waiting for its time (quiet hours move it later, never drop it)."""
    SENDING = "sending"
    """Claimed by a worker; back to queued if the worker dies before the provider answers."""
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    """A permanent failure, or a transient one that outlasted its retries."""
    BOUNCED = "bounced"
    SUPPRESSED = "suppressed"
    """Stopped before sending by the rules: no consent, unsubscribed, under 21, suppressed."""
    CANCELLED = "cancelled"
    HELD_OUT = "held_out"
    """Kept back on purpose as the campaign's control group: never sent, measured all the same."""

    @property
    def finished(self) -> bool:
        return self not in (MessageStatus.QUEUED, MessageStatus.SENDING)


class Message(Base):
    """One email or text to one customer: the outbox row written before anything is sent.

    `key` (campaign, step, customer, channel) is unique, so planning a step twice, retrying a
    job or restarting a worker can never make a second message for the same send.
    """

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_status_send_after", "status", "send_after"),
        Index("ix_messages_campaign_id_status", "campaign_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    step_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaign_steps.id", ondelete="SET NULL")
    )
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL"), index=True
    )
    template_id: Mapped[int | None] = mapped_column(ForeignKey("templates.id", ondelete="SET NULL"))
    variant: Mapped[int | None]
    """The A/B test variant (its position) the message carries, when its step is tested."""
    action_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    """The approved action this message carries out (its personal offer), when there is one."""
    channel: Mapped[Channel] = mapped_column(StrEnumType(Channel, 10))
    to_address: Mapped[str] = mapped_column(String(254), default="")
    status: Mapped[MessageStatus] = mapped_column(
        StrEnumType(MessageStatus, 12), default=MessageStatus.QUEUED
    )
    send_after: Mapped[datetime] = mapped_column(default=utc_now)
    attempts: Mapped[int] = mapped_column(default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(36))
    claimed_at: Mapped[datetime | None]
    provider: Mapped[str | None] = mapped_column(String(20))
    provider_message_id: Mapped[str | None] = mapped_column(String(120), index=True)
    subject: Mapped[str] = mapped_column(String(200), default="")
    segments: Mapped[int] = mapped_column(default=0)
    """SMS parts billed (0 for email)."""
    cost_cents: Mapped[float] = mapped_column(default=0.0)
    offer_code: Mapped[str | None] = mapped_column(String(12), unique=True, index=True)
    """The code the message offered (`LC-7KQ2X9`), given when it is sent; a till that rings it
    up attributes the order to this message with certainty."""
    error_code: Mapped[str | None] = mapped_column(String(40))
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    sent_at: Mapped[datetime | None] = mapped_column(index=True)
    delivered_at: Mapped[datetime | None]
    opened_at: Mapped[datetime | None]
    clicked_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]


class SuppressionReason(StrEnum):
    UNSUBSCRIBED = "unsubscribed"
    STOP = "stop"
    HARD_BOUNCE = "hard_bounce"
    SOFT_BOUNCES = "soft_bounces"
    COMPLAINT = "complaint"
    INVALID = "invalid"
    MANUAL = "manual"
    ERASED = "erased"
    """The person asked to be erased; the address is kept only as a keyed hash."""


class Suppression(Base):
    """An address or number that must not get marketing again, whoever it belongs to now."""

    __tablename__ = "suppressions"
    __table_args__ = (UniqueConstraint("channel", "address"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    channel: Mapped[Channel] = mapped_column(StrEnumType(Channel, 10))
    address: Mapped[str] = mapped_column(String(254))
    """Lower-case email address or E.164 number."""
    reason: Mapped[SuppressionReason] = mapped_column(StrEnumType(SuppressionReason, 20))
    detail: Mapped[str] = mapped_column(Text, default="")
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
