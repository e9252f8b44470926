"""Watching sends: counts by status, the send rate, filtered lists, a message's timeline, and
retrying what failed for a reason that may have passed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, select, update
from sqlalchemy.orm import Session

from core.db import rowcount
from core.infra import audit
from core.messaging.providers import Sandbox
from core.models import Campaign, Channel, Customer, Event, Message, MessageStatus
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
    provider: str | None
    subject: str


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
            provider=m.provider,
            subject=m.subject,
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
class Figures:
    """How a campaign's messages fared, every number counted from the outbox and the events."""

    targeted: int
    """Messages written: one per customer and channel the campaign reached for."""
    held_out: int
    """Messages kept back for the control group (written, never sent)."""
    queued: int
    """Waiting for their time, or being sent right now."""
    sent: int
    delivered: int
    opened: int
    clicked: int
    unsubscribed: int
    """Recipients who opted out from one of these messages (link, reply or provider report)."""
    bounced: int
    failed: int
    stopped: int
    """Stopped by the rules before sending (consent withdrawn, suppressed, under 21)."""
    cost_cents: float
    sent_in_test_mode: int
    """Sent through the sandbox: nothing really left."""

    @property
    def test_mode(self) -> bool:
        return self.sent_in_test_mode > 0

    @property
    def really_sent(self) -> int:
        """Messages that left for a customer (test mode's did not)."""
        return self.sent - self.sent_in_test_mode

    @property
    def went_out(self) -> bool:
        """Some message really reached a customer (not the sandbox): what followed is measurable."""
        return self.really_sent > 0

    def rate(self, part: int) -> float | None:
        """`part` as a share of the messages that went out; None before any did."""
        return part / self.sent if self.sent else None

    def as_dict(self) -> dict[str, int | float | bool]:
        return {
            **self.__dict__,
            "cost_cents": round(self.cost_cents, 2),
            "test_mode": self.test_mode,
        }


def opted_out_messages() -> Select[int | None]:
    """The messages their recipients opted out from (link, reply or provider report)."""
    return (
        select(Event.message_id)
        .where(
            Event.type.in_([f"{channel.value}.opted_out" for channel in Channel]),
            Event.message_id.is_not(None),
        )
        .distinct()
    )


def campaign_figures(*, session: Session, campaign_ids: list[int]) -> dict[int, Figures]:
    """Figures of each campaign in `campaign_ids` (those without messages are all zeros: the
    caller says "nothing sent yet" rather than showing them)."""
    m = Message
    if not campaign_ids:
        return {}

    def counted(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return func.count().filter(condition)

    columns: dict[str, ColumnElement[Any]] = {
        "targeted": counted(m.status != MessageStatus.HELD_OUT),
        "held_out": counted(m.status == MessageStatus.HELD_OUT),
        "queued": counted(m.status.in_([MessageStatus.QUEUED, MessageStatus.SENDING])),
        "sent": counted(m.sent_at.is_not(None)),
        "delivered": counted(m.delivered_at.is_not(None)),
        "opened": counted(m.opened_at.is_not(None)),
        "clicked": counted(m.clicked_at.is_not(None)),
        "unsubscribed": counted(m.id.in_(opted_out_messages())),
        "bounced": counted(m.status == MessageStatus.BOUNCED),
        "failed": counted(m.status == MessageStatus.FAILED),
        "stopped": counted(m.status == MessageStatus.SUPPRESSED),
        "cost_cents": func.coalesce(func.sum(m.cost_cents), 0.0),
        "sent_in_test_mode": counted(and_(m.sent_at.is_not(None), m.provider == Sandbox.name)),
    }
    rows = session.execute(
        select(m.campaign_id, *(column.label(name) for name, column in columns.items()))
        .where(m.campaign_id.in_(campaign_ids))
        .group_by(m.campaign_id)
    ).all()
    found = {
        row.campaign_id: Figures(**{name: getattr(row, name) for name in columns}) for row in rows
    }
    nothing = Figures(**{name: 0 for name in columns})
    return {i: found.get(i, nothing) for i in campaign_ids}
