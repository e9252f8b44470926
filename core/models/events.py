from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, BigIntPK, utc_now


class Event(Base):
    """Something a user cares about happened. Analytics read these rows, never the logs."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_type_occurred_at", "type", "occurred_at"),
        Index("ix_events_customer_id_occurred_at", "customer_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    type: Mapped[str] = mapped_column(String(40))
    occurred_at: Mapped[datetime] = mapped_column(default=utc_now)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    campaign_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    message_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    amount_cents: Mapped[int | None] = mapped_column(BigInteger)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    dedupe_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    """A provider's id for the event, so a webhook delivered twice is recorded once."""


class WebhookToken(Base):
    """A Mailgun signature token seen within its freshness window.

    Mailgun's signature covers only timestamp + token, not the event: remembering each token
    with the event it came with lets Mailgun retry the same event while the same signature
    with other event data is refused as a replay.
    """

    __tablename__ = "webhook_tokens"

    token: Mapped[str] = mapped_column(String(128), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(120))
    seen_at: Mapped[datetime] = mapped_column(index=True)
