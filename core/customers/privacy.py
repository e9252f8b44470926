"""A person's privacy rights (CCPA, GDPR): everything we hold about them, and their erasure.

Erasure removes the personal data and keeps what the store's figures are made of: the customer
row stays, anonymous, for its orders (revenue, cohorts, campaign results do not move), and the
email address and phone number stay on the suppression list only as keyed hashes, so the person
never gets marketing again, even when a later import brings the same address back.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.orm import Session

from core.customers.records import get_customer
from core.errors import Conflict
from core.infra import audit
from core.infra.csv_safe import write_csv
from core.messaging import suppressions
from core.models import (
    AuditEntry,
    Channel,
    ConsentRecord,
    Customer,
    Event,
    Message,
    Order,
    OrderItem,
    Segment,
    SegmentMember,
    SmsSignup,
    Suppression,
    SuppressionReason,
)
from core.permissions import Actor, Permission, authorize

_ERASED_VALUES: dict[str, Any] = {
    "external_id": None,
    "email": None,
    "phone": None,
    "first_name": "",
    "last_name": "",
    "birth_date": None,
    "address": "",
    "city": "",
    "zip": "",
    "timezone": None,
    "age_verified": False,
    "email_opt_in": False,
    "email_opt_in_at": None,
    "email_consent_source": None,
    "sms_opt_in": False,
    "sms_opt_in_at": None,
    "sms_consent_source": None,
}
"""What an erased profile holds instead. The state stays: the store's per-state figures and
compliance counts are made of it, and it names nobody."""
PERSONAL_FIELDS = frozenset(_ERASED_VALUES)

_KEPT_EVENT_KEYS = frozenset({"reason", "source", "channel", "provider", "segments", "event"})
"""Keys of an event's data that describe what happened, never who it happened to (the rest,
such as a webhook's recipient, IP or an inbound text's body, goes at erasure)."""


# --- export --------------------------------------------------------------------------------


def personal_data(
    *, session: Session, actor: Actor, customer_id: int, now: datetime
) -> dict[str, Any]:
    """Everything held about one customer, JSON-ready, by section: profile, consents, orders
    with their lines, messages, events, segments, suppressions. Recorded in the audit log.

    Raises:
        PermissionDenied: the actor may not export personal data.
        NotFound: no such customer.
    """
    authorize(actor, Permission.EXPORT_DATA)
    customer = get_customer(session=session, customer_id=customer_id, include_deleted=True)
    data = {
        "exported_at": now.isoformat(),
        "profile": _columns(customer, exclude=("version",)),
        "consents": [
            _columns(record, exclude=("customer_id",))
            for record in session.scalars(
                select(ConsentRecord)
                .where(ConsentRecord.customer_id == customer_id)
                .order_by(ConsentRecord.recorded_at, ConsentRecord.id)
            )
        ],
        "orders": _orders(session, customer_id),
        "messages": [
            _columns(message, exclude=("customer_id", "key", "claimed_by", "claimed_at"))
            for message in session.scalars(
                select(Message).where(Message.customer_id == customer_id).order_by(Message.id)
            )
        ],
        "events": [
            _columns(event, exclude=("customer_id", "dedupe_key"))
            for event in session.scalars(
                select(Event).where(Event.customer_id == customer_id).order_by(Event.id)
            )
        ],
        "segments": list(
            session.scalars(
                select(Segment.name)
                .join(SegmentMember, SegmentMember.segment_id == Segment.id)
                .where(SegmentMember.customer_id == customer_id)
                .order_by(Segment.name)
            )
        ),
        "suppressions": [
            {"channel": row.channel, "reason": row.reason, "since": row.created_at}
            for row in _suppressions_of(session, customer)
        ],
    }
    audit.record(
        session=session,
        actor=actor,
        action="customer.personal_data_exported",
        entity_type="customer",
        entity_id=customer_id,
        changes={section: len(rows) for section, rows in data.items() if isinstance(rows, list)},
    )
    return json.loads(json.dumps(data, default=_plain))


def as_json(data: dict[str, Any]) -> bytes:
    return json.dumps(data, indent=2, ensure_ascii=False).encode()


def as_csv_zip(data: dict[str, Any]) -> bytes:
    """One spreadsheet-safe CSV per section, in a zip: the profile as field/value pairs, the
    orders' lines in a file of their own."""
    tables: dict[str, tuple[list[str], list[list[Any]]]] = {
        "profile": (["field", "value"], [[k, v] for k, v in data["profile"].items()]),
        "segments": (["segment"], [[name] for name in data["segments"]]),
    }
    lines = [
        {"order_id": order["id"], **line} for order in data["orders"] for line in order["items"]
    ]
    orders = [{k: v for k, v in order.items() if k != "items"} for order in data["orders"]]
    for section, rows in (
        ("consents", data["consents"]),
        ("orders", orders),
        ("order_lines", lines),
        ("messages", data["messages"]),
        ("events", data["events"]),
        ("suppressions", data["suppressions"]),
    ):
        header = list(dict.fromkeys(key for row in rows for key in row))
        tables[section] = (header, [[row.get(key) for key in header] for row in rows])
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for section, (header, table) in tables.items():
            text = io.StringIO()
            write_csv(text, header, [[_cell(value) for value in row] for row in table])
            archive.writestr(f"{section}.csv", text.getvalue())
    return buffer.getvalue()


def _orders(session: Session, customer_id: int) -> list[dict[str, Any]]:
    orders = session.scalars(
        select(Order).where(Order.customer_id == customer_id).order_by(Order.ordered_at)
    ).all()
    lines: dict[int, list[dict[str, Any]]] = {}
    for item in session.scalars(
        select(OrderItem)
        .where(OrderItem.order_id.in_([order.id for order in orders]))
        .order_by(OrderItem.id)
    ):
        lines.setdefault(item.order_id, []).append(_columns(item, exclude=("id", "order_id")))
    return [
        {**_columns(order, exclude=("customer_id",)), "items": lines.get(order.id, [])}
        for order in orders
    ]


def _suppressions_of(session: Session, customer: Customer) -> list[Suppression]:
    wanted = [
        and_(Suppression.channel == channel.value, Suppression.address == address)
        for channel, address in _addresses(customer)
    ]
    if not wanted:
        return []
    return list(session.scalars(select(Suppression).where(or_(*wanted))))


# --- erasure -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Erasure:
    customer_id: int
    orders_kept: int
    addresses_suppressed: int
    """Email address and phone number kept on the suppression list (as hashes, or in plain
    when another customer holds the same one)."""

    def as_dict(self) -> dict[str, int]:
        return {
            "customer_id": self.customer_id,
            "orders_kept": self.orders_kept,
            "addresses_suppressed": self.addresses_suppressed,
        }


def erase_customer(
    *,
    session: Session,
    actor: Actor,
    customer_id: int,
    now: datetime,
    requested_on: date | None = None,
) -> Erasure:
    """Erase a customer at their request; cannot be undone.

    Gone: the profile's personal fields, the addresses on their consent records and messages,
    what their events' data said about them, the personal values in the audit trail of their
    record, their segment memberships. Kept: the anonymous row and its orders, the consent
    decisions (granted or withdrawn, when, how), the messages' outcomes, and the address
    and number as keyed hashes on the suppression list. An address another customer also holds
    (a household's phone) stays suppressed in plain, as it still is theirs.

    Raises:
        PermissionDenied: only admins may erase.
        NotFound: no such customer.
        Conflict: already erased.
    """
    authorize(actor, Permission.ERASE_DATA)
    customer = get_customer(session=session, customer_id=customer_id, include_deleted=True)
    if customer.erased_at is not None:
        raise Conflict(
            f"Customer #{customer_id} was already erased on {customer.erased_at:%b %d, %Y}."
        )
    addresses = _addresses(customer)
    for channel, address in addresses:
        if _held_by_another(session, customer, channel, address):
            suppressions.suppress(
                session=session,
                channel=channel,
                address=address,
                reason=SuppressionReason.ERASED,
                detail="a customer who shares it was erased",
            )
        else:
            suppressions.suppress_erased(session=session, channel=channel, address=address)
    _forget_history(session, customer_id)
    if customer.phone:
        session.execute(delete(SmsSignup).where(SmsSignup.number == customer.phone))
    for field, value in _ERASED_VALUES.items():
        setattr(customer, field, value)
    customer.deleted_at = customer.deleted_at or now
    customer.erased_at = now
    orders = session.scalar(select(func.count()).where(Order.customer_id == customer_id)) or 0
    erasure = Erasure(customer_id, orders, len(addresses))
    audit.record(
        session=session,
        actor=actor,
        action="customer.erased",
        entity_type="customer",
        entity_id=customer_id,
        changes={
            **erasure.as_dict(),
            "requested_on": requested_on.isoformat() if requested_on else None,
        },
    )
    return erasure


def _forget_history(session: Session, customer_id: int) -> None:
    session.execute(
        update(ConsentRecord)
        .where(ConsentRecord.customer_id == customer_id)
        .values(address=None, details={})
    )
    session.execute(update(Message).where(Message.customer_id == customer_id).values(to_address=""))
    session.execute(delete(SegmentMember).where(SegmentMember.customer_id == customer_id))
    for event in session.scalars(select(Event).where(Event.customer_id == customer_id)):
        event.data = {k: v for k, v in event.data.items() if k in _KEPT_EVENT_KEYS}
    for entry in session.scalars(
        select(AuditEntry).where(
            AuditEntry.entity_type == "customer", AuditEntry.entity_id == str(customer_id)
        )
    ):
        entry.changes = _redacted(entry.changes)


def _redacted(changes: dict[str, Any]) -> dict[str, Any]:
    return {key: "[erased]" if key in PERSONAL_FIELDS else value for key, value in changes.items()}


def _held_by_another(session: Session, customer: Customer, channel: Channel, address: str) -> bool:
    column = func.lower(Customer.email) if channel == Channel.EMAIL else Customer.phone
    wanted = suppressions.normalise(channel, address)
    return (
        session.scalar(
            select(Customer.id)
            .where(column == wanted, Customer.id != customer.id, Customer.erased_at.is_(None))
            .limit(1)
        )
        is not None
    )


def _addresses(customer: Customer) -> list[tuple[Channel, str]]:
    found = [(Channel.EMAIL, customer.email), (Channel.SMS, customer.phone)]
    return [(channel, suppressions.normalise(channel, a)) for channel, a in found if a]


# --- helpers -------------------------------------------------------------------------------


def _columns(row: Any, *, exclude: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        column.key: getattr(row, column.key)
        for column in row.__table__.columns
        if column.key not in exclude
    }


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _cell(value: Any) -> Any:
    return json.dumps(value) if isinstance(value, dict | list) else value
