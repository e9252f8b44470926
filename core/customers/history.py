"""A customer's past: purchases with their lines, and a timeline of everything that happened."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    select,
)
from sqlalchemy.orm import Session, selectinload

from core.compliance import consent
from core.infra.money import format_cents
from core.models import AuditEntry, Event, Order


@dataclass(frozen=True)
class PurchaseLine:
    sku: str
    category: str
    quantity: int
    unit_price_cents: int
    line_total_cents: int


@dataclass(frozen=True)
class Purchase:
    order_id: int
    external_id: str | None
    ordered_at: datetime
    total_cents: int
    discount_cents: int
    channel: str
    lines: list[PurchaseLine]


def purchase_history(*, session: Session, customer_id: int, limit: int = 200) -> list[Purchase]:
    """Orders newest first, each with its lines."""
    orders = session.scalars(
        select(Order)
        .where(Order.customer_id == customer_id)
        .order_by(Order.ordered_at.desc(), Order.id.desc())
        .limit(limit)
        .options(selectinload(Order.items))
    ).all()
    return [
        Purchase(
            order.id,
            order.external_id,
            order.ordered_at,
            order.total_cents,
            order.discount_cents,
            order.channel,
            [
                PurchaseLine(i.sku, i.category, i.quantity, i.unit_price_cents, i.line_total_cents)
                for i in order.items
            ],
        )
        for order in orders
    ]


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str
    """order, event, consent or edit"""
    title: str
    detail: str = ""


def timeline(*, session: Session, customer_id: int, limit: int = 200) -> list[TimelineEntry]:
    """Everything that happened to a customer, newest first: orders, messages and their
    opens/clicks, consent changes and edits."""
    entries = [
        TimelineEntry(
            o.ordered_at, "order", f"Order {o.external_id or o.id}", format_cents(o.total_cents)
        )
        for o in session.scalars(
            select(Order)
            .where(Order.customer_id == customer_id)
            .order_by(Order.ordered_at.desc())
            .limit(limit)
        )
    ]
    entries += [
        TimelineEntry(
            e.occurred_at, "event", e.type.replace("_", " ").capitalize(), _describe(e.data)
        )
        for e in session.scalars(
            select(Event)
            .where(Event.customer_id == customer_id)
            .order_by(Event.occurred_at.desc())
            .limit(limit)
        )
    ]
    entries += [
        TimelineEntry(
            c.recorded_at,
            "consent",
            f"{c.channel.upper()} {'opt-in' if c.granted else 'opt-out'}",
            f"source: {c.source}",
        )
        for c in consent.history(session=session, customer_id=customer_id)[:limit]
    ]
    entries += [
        TimelineEntry(
            a.at,
            "edit",
            a.action.removeprefix("customer.").replace("_", " ").title(),
            f"{a.actor}: {_describe(a.changes)}",
        )
        for a in session.scalars(
            select(AuditEntry)
            .where(AuditEntry.entity_type == "customer", AuditEntry.entity_id == str(customer_id))
            .order_by(AuditEntry.at.desc())
            .limit(limit)
        )
    ]
    return sorted(entries, key=lambda entry: entry.at, reverse=True)[:limit]


def _describe(data: dict[str, Any]) -> str:
    return ", ".join(f"{key}: {value}" for key, value in list(data.items())[:6])
