"""Watching sends: counts by status, the send rate, filtered lists, a message's timeline, and
retrying what failed for a reason that may have passed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import Session

from core.db import rowcount
from core.infra import audit
from core.models import Campaign, Customer, Event, Message, MessageStatus
from core.permissions import Actor, Permission, authorize

PAGE_SIZE = 50
RETRYABLE_CODES_EXCLUDED = ("400",)
"""Provider answers that retrying cannot fix (Mailgun's 400 is a bad address)."""


@dataclass(frozen=True)
class MessageFilter:
    statuses: tuple[str, ...] = ()
    channel: str | None = None
    campaign_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    """Created on or after `since`, before `until`."""

    def conditions(self) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = []
        if self.statuses:
            found.append(Message.status.in_(self.statuses))
        if self.channel:
            found.append(Message.channel == self.channel)
        if self.campaign_id is not None:
            found.append(Message.campaign_id == self.campaign_id)
        if self.since:
            found.append(Message.created_at >= self.since)
        if self.until:
            found.append(Message.created_at < self.until)
        return found


@dataclass(frozen=True)
class Row:
    id: int
    status: str
    channel: str
    campaign: str
    customer_id: int | None
    customer: str
    to_address: str
    send_after: datetime
    sent_at: datetime | None
    attempts: int
    cost_cents: float
    error: str


def status_counts(*, session: Session, campaign_id: int | None = None) -> dict[str, int]:
    query = select(Message.status, func.count()).group_by(Message.status)
    if campaign_id is not None:
        query = query.where(Message.campaign_id == campaign_id)
    return dict(session.execute(query).all())


def total_cost_cents(*, session: Session, campaign_id: int | None = None) -> float:
    query = select(func.coalesce(func.sum(Message.cost_cents), 0.0))
    if campaign_id is not None:
        query = query.where(Message.campaign_id == campaign_id)
    return float(session.execute(query).scalar_one())


def sends_per_minute(
    *, session: Session, now: datetime, window: timedelta = timedelta(minutes=1)
) -> float:
    """Messages accepted by a provider in the `window` before `now`, per minute."""
    since = now - window
    sent = session.execute(
        select(func.count()).select_from(Message).where(Message.sent_at >= since)
    ).scalar_one()
    return sent / (window.total_seconds() / 60)


def list_messages(
    *, session: Session, where: MessageFilter, page: int = 1
) -> tuple[list[Row], int]:
    """One page of messages, newest first, and how many match."""
    conditions = where.conditions()
    total = session.execute(
        select(func.count()).select_from(Message).where(*conditions)
    ).scalar_one()
    rows = session.execute(
        select(Message, Campaign.name, Customer.first_name, Customer.last_name)
        .outerjoin(Campaign, Campaign.id == Message.campaign_id)
        .outerjoin(Customer, Customer.id == Message.customer_id)
        .where(*conditions)
        .order_by(Message.id.desc())
        .limit(PAGE_SIZE)
        .offset((max(page, 1) - 1) * PAGE_SIZE)
    ).all()
    return [
        Row(
            id=m.id,
            status=m.status,
            channel=m.channel,
            campaign=name or "—",
            customer_id=m.customer_id,
            customer=f"{first or ''} {last or ''}".strip() or "—",
            to_address=m.to_address,
            send_after=m.send_after,
            sent_at=m.sent_at,
            attempts=m.attempts,
            cost_cents=m.cost_cents,
            error=m.error,
        )
        for m, name, first, last in rows
    ], total


def timeline(*, session: Session, message_id: int) -> list[Event]:
    """Everything that happened to one message, in order."""
    return list(
        session.scalars(
            select(Event)
            .where(Event.message_id == message_id)
            .order_by(Event.occurred_at, Event.id)
        )
    )


def _retryable() -> list[ColumnElement[bool]]:
    return [
        Message.status == MessageStatus.FAILED,
        func.coalesce(Message.error_code, "").not_in(RETRYABLE_CODES_EXCLUDED),
        Message.sent_at.is_(None),
    ]


def count_retryable(*, session: Session, campaign_id: int | None = None) -> int:
    query = select(func.count()).select_from(Message).where(*_retryable())
    if campaign_id is not None:
        query = query.where(Message.campaign_id == campaign_id)
    return session.execute(query).scalar_one()


def retry_failed(
    *, session: Session, actor: Actor, now: datetime, message_ids: list[int] | None = None
) -> int:
    """Queue failed messages again (all retryable ones, or those of `message_ids`). Messages
    refused for good (a bad address) or stopped by the rules stay as they are; the rules are
    checked again when each is sent. Returns how many were queued."""
    authorize(actor, Permission.RUN_CAMPAIGNS)
    query = update(Message).where(*_retryable())
    if message_ids is not None:
        query = query.where(Message.id.in_(message_ids))
    result = session.execute(
        query.values(
            status=MessageStatus.QUEUED,
            attempts=0,
            send_after=now,
            error="",
            error_code=None,
            failed_at=None,
        ).execution_options(synchronize_session=False)
    )
    audit.record(
        session=session,
        actor=actor,
        action="messages.retry",
        entity_type="message",
        changes={"messages": rowcount(result), "ids": (message_ids or [])[:50]},
    )
    return rowcount(result)


@dataclass(frozen=True)
class Engagement:
    messages: int
    sent: int
    delivered: int
    opened: int
    clicked: int
    failed: int
    stopped: int
    cost_cents: float

    def rate(self, part: int) -> float:
        """`part` as a share of the messages that went out."""
        return part / self.sent if self.sent else 0.0


def engagement(*, session: Session, campaign_id: int) -> Engagement:
    """How a campaign's messages fared, from the outbox and the providers' events."""
    m = Message

    def counted(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return func.count().filter(condition)

    row = session.execute(
        select(
            func.count(),
            counted(m.sent_at.is_not(None)),
            counted(m.delivered_at.is_not(None)),
            counted(m.opened_at.is_not(None)),
            counted(m.clicked_at.is_not(None)),
            counted(m.status.in_([MessageStatus.FAILED, MessageStatus.BOUNCED])),
            counted(m.status == MessageStatus.SUPPRESSED),
            func.coalesce(func.sum(m.cost_cents), 0.0),
        ).where(m.campaign_id == campaign_id)
    ).one()
    return Engagement(*row[:7], cost_cents=float(row[7]))
