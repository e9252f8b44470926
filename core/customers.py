"""Customers: create, read, edit (audited), soft delete, restore, list, search, history, timeline.

Lists and searches are built as one SQL query (filters, relevance or sort, a page of 50) so they
stay fast on a million customers; search uses the backend's trigram index (migration 0002).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    exists,
    func,
    or_,
    select,
)
from sqlalchemy.orm import Session, selectinload

from core import audit, consent
from core.consent import Channel
from core.contacts import (
    normalize_email,
    normalize_phone,
    normalize_state,
    normalize_zip,
    timezone_for,
)
from core.errors import Conflict, NotFound, ValidationError
from core.models import AuditEntry, ConsentRecord, Customer, Event, Order, SegmentMember
from core.money import format_cents
from core.permissions import Actor, Permission, authorize

PAGE_SIZE = 50
COUNT_LIMIT = 10_000
"""Count matches only this far: an exact count of a million rows costs more than the page."""

FIRST_NAME = func.lower(Customer.first_name)
LAST_NAME = func.lower(Customer.last_name)
"""Expressions with their own indexes (migration 0002), so prefix searches on them are fast."""


class ChurnRisk(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    UNSCORED = "unscored"


class ConsentFilter(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    ANY = "any"
    NONE = "none"


class SortKey(StrEnum):
    CREATED = "created"
    SPENT = "spent"
    LAST_ORDER = "last_order"
    NAME = "name"


SORT_COLUMNS = {
    SortKey.CREATED: Customer.created_at,
    SortKey.SPENT: Customer.total_spent_cents,
    SortKey.LAST_ORDER: Customer.last_order_at,
    SortKey.NAME: Customer.last_name,
}


@dataclass(frozen=True)
class CustomerFilter:
    search: str = ""
    segment_id: int | None = None
    churn_risk: tuple[ChurnRisk, ...] = ()
    consent: ConsentFilter | None = None
    city: str = ""
    zip_prefix: str = ""
    deleted: bool = False
    """Show the soft-deleted customers (to restore them) instead of the live ones."""


ALL_CUSTOMERS = CustomerFilter()


@dataclass(frozen=True)
class CustomerPage:
    customers: list[Customer]
    total: int
    """Matches counted, up to COUNT_LIMIT; `exact` says whether that is all of them."""
    page: int
    page_size: int
    exact: bool = True

    @property
    def pages(self) -> int:
        """Pages known to exist (more may follow when the count is not exact)."""
        return max(1, math.ceil(self.total / self.page_size))

    @property
    def has_next(self) -> bool:
        return self.page < self.pages or (not self.exact and len(self.customers) == self.page_size)


# --- reading ---------------------------------------------------------------------------------


def count_customers(*, session: Session) -> int:
    """Customers that are not soft-deleted."""
    return session.scalar(select(func.count(Customer.id)).where(Customer.deleted_at.is_(None)))


def get_customer(*, session: Session, customer_id: int, include_deleted: bool = False) -> Customer:
    customer = session.get(Customer, customer_id)
    if customer is None or (customer.deleted_at is not None and not include_deleted):
        raise NotFound(f"There is no customer #{customer_id}.")
    return customer


def filtered_ids(*, session: Session, filters: CustomerFilter) -> Select[tuple[int]]:
    """The ids matching `filters` (no order): shared by the list, export and bulk actions."""
    return select(Customer.id).where(*_conditions(filters, _dialect(session)))


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def list_customers(
    *,
    session: Session,
    filters: CustomerFilter = ALL_CUSTOMERS,
    sort: SortKey = SortKey.CREATED,
    descending: bool = True,
    page: int = 1,
    page_size: int = PAGE_SIZE,
) -> CustomerPage:
    """One page of customers. With a search, the most relevant come first."""
    conditions = _conditions(filters, _dialect(session))
    counted = select(Customer.id).where(*conditions).limit(COUNT_LIMIT + 1).subquery()
    total = session.scalar(select(func.count()).select_from(counted))
    exact = total <= COUNT_LIMIT
    if exact:
        page = max(1, min(page, max(1, math.ceil(total / page_size))))
    total = min(total, COUNT_LIMIT)
    query = select(Customer).where(*conditions)
    if filters.search.strip():
        query = query.order_by(*_relevance(session, filters.search))
    else:
        column = SORT_COLUMNS[sort]
        order = column.desc() if descending else column.asc()
        if column.nullable:
            # Customers who never ordered go last either way. (Only nullable columns get this:
            # PostgreSQL cannot serve DESC NULLS LAST from a plain index.)
            order = order.nulls_last()
        query = query.order_by(order, Customer.id.desc() if descending else Customer.id.asc())
    rows = session.scalars(query.limit(page_size).offset((page - 1) * page_size)).all()
    return CustomerPage(list(rows), total, page, page_size, exact)


def _conditions(filters: CustomerFilter, dialect: str) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [
        Customer.deleted_at.is_not(None) if filters.deleted else Customer.deleted_at.is_(None)
    ]
    if filters.search.strip():
        conditions.append(_search_condition(filters.search, dialect))
    if filters.segment_id is not None:
        conditions.append(
            exists().where(
                SegmentMember.segment_id == filters.segment_id,
                SegmentMember.customer_id == Customer.id,
            )
        )
    if filters.churn_risk:
        scored = [r for r in filters.churn_risk if r != ChurnRisk.UNSCORED]
        either = [Customer.churn_risk.in_(scored)] if scored else []
        if ChurnRisk.UNSCORED in filters.churn_risk:
            either.append(Customer.churn_risk.is_(None))
        conditions.append(or_(*either))
    if filters.consent:
        conditions.append(_consent_condition(filters.consent))
    if filters.city.strip():
        conditions.append(func.lower(Customer.city) == filters.city.strip().lower())
    if filters.zip_prefix.strip():
        conditions.append(Customer.zip.startswith(filters.zip_prefix.strip(), autoescape=True))
    return conditions


def _consent_condition(choice: ConsentFilter) -> ColumnElement[bool]:
    email_ok = and_(Customer.email_opt_in.is_(True), Customer.email_status == "active")
    sms_ok = and_(Customer.sms_opt_in.is_(True), Customer.sms_status == "active")
    return {
        ConsentFilter.EMAIL: email_ok,
        ConsentFilter.SMS: sms_ok,
        ConsentFilter.ANY: or_(email_ok, sms_ok),
        ConsentFilter.NONE: and_(~email_ok, ~sms_ok),
    }[choice]


def _search_terms(query: str) -> list[str]:
    """Lowercase words; a query that is mostly digits is read as (part of) a phone number."""
    query = query.strip().lower()
    digits = re.sub(r"\D", "", query)
    if len(digits) >= 3 and not re.search(r"[a-z@]", query):
        return [digits]
    return [word for word in query.split() if word]


def _phone_prefix(digits: str) -> str:
    """Digits as typed → the start of an E.164 number: '312555' → '+1312555'."""
    return "+" + digits if digits.startswith("1") or len(digits) > 10 else "+1" + digits


def _starts_with(expression: ColumnElement[str], prefix: str, dialect: str) -> ColumnElement[bool]:
    """`expression` begins with `prefix`, in a form the backend's index can answer.

    SQLite's indexes serve a range (>= prefix and < the next prefix); PostgreSQL's serve LIKE
    'prefix%' through their text_pattern_ops operator class (any collation).
    """
    if dialect == "sqlite":
        upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        return and_(expression >= prefix, expression < upper)
    return expression.startswith(prefix, autoescape=True)


def _search_condition(query: str, dialect: str) -> ColumnElement[bool]:
    """Every word must start a first name, last name or email; digits start a phone number.

    A prefix search over indexed columns: fast on a million customers and cheap to keep up to
    date during imports, unlike trigram or full-text indexes, which cost an import 5–15 µs a
    row on this hardware (measured: bench/import_speed.py).
    """
    conditions = []
    for term in _search_terms(query):
        if term.isdigit():
            conditions.append(_starts_with(Customer.phone, _phone_prefix(term), dialect))
            continue
        conditions.append(
            or_(
                _starts_with(FIRST_NAME, term, dialect),
                _starts_with(LAST_NAME, term, dialect),
                _starts_with(Customer.email, term, dialect),
            )
        )
    return and_(*conditions)


def _relevance(session: Session, query: str) -> list[ColumnElement[Any]]:
    """Exact email or phone first, then last names, then first names starting with the query,
    then whoever shopped most recently."""
    terms = _search_terms(query)
    first = terms[0]
    exact = [Customer.email == " ".join(terms)]
    if first.isdigit():
        exact.append(Customer.phone == _phone_prefix(first))
    rank = case(
        (or_(*exact), 0),
        (LAST_NAME.startswith(first, autoescape=True), 1),
        (FIRST_NAME.startswith(first, autoescape=True), 2),
        else_=3,
    )
    return [rank, Customer.last_order_at.desc().nulls_last(), Customer.id.desc()]


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
        TimelineEntry(a.at, "edit", a.action.removeprefix("customer.").replace("_", " ").title(),
                      f"{a.actor}: {_describe(a.changes)}")
        for a in session.scalars(
            select(AuditEntry)
            .where(AuditEntry.entity_type == "customer", AuditEntry.entity_id == str(customer_id))
            .order_by(AuditEntry.at.desc())
            .limit(limit)
        )
    ]  # fmt: skip
    return sorted(entries, key=lambda entry: entry.at, reverse=True)[:limit]


def _describe(data: dict[str, Any]) -> str:
    return ", ".join(f"{key}: {value}" for key, value in list(data.items())[:6])


def possible_duplicates(*, session: Session, customer_id: int) -> list[Customer]:
    """Other live customers with the same email or phone: candidates to merge."""
    customer = get_customer(session=session, customer_id=customer_id, include_deleted=True)
    same = []
    if customer.email:
        same.append(Customer.email == customer.email)
    if customer.phone:
        same.append(Customer.phone == customer.phone)
    if not same:
        return []
    return list(
        session.scalars(
            select(Customer)
            .where(or_(*same), Customer.id != customer.id, Customer.deleted_at.is_(None))
            .order_by(Customer.id)
            .limit(20)
        )
    )


def duplicate_groups(*, session: Session, limit: int = 50) -> list[tuple[str, list[int]]]:
    """Emails and phones shared by several live customers, biggest groups first."""
    groups: list[tuple[str, list[int]]] = []
    for column in (Customer.email, Customer.phone):
        shared = (
            select(column, func.count(Customer.id))
            .where(column.is_not(None), Customer.deleted_at.is_(None))
            .group_by(column)
            .having(func.count(Customer.id) > 1)
            .order_by(func.count(Customer.id).desc())
            .limit(limit)
        )
        for value, _count in session.execute(shared):
            ids = session.scalars(
                select(Customer.id)
                .where(column == value, Customer.deleted_at.is_(None))
                .order_by(Customer.id)
            ).all()
            groups.append((value, list(ids)))
    return sorted(groups, key=lambda group: -len(group[1]))[:limit]


# --- writing ---------------------------------------------------------------------------------

EDITABLE = (
    "external_id", "first_name", "last_name", "email", "phone", "birth_date", "age_verified",
    "address", "city", "state", "zip", "timezone",
)  # fmt: skip


def validate_fields(fields: dict[str, Any], *, today: date) -> dict[str, Any]:
    """Check and normalise editable fields. Raises ValidationError naming the first bad field."""
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise ValidationError(f"These fields cannot be edited: {', '.join(sorted(unknown))}")
    clean: dict[str, Any] = {}
    for name, value in fields.items():
        if isinstance(value, str):
            value = value.strip()
        if name == "email":
            clean[name] = normalize_email(value) if value else None
        elif name == "phone":
            clean[name] = normalize_phone(value) if value else None
        elif name == "state":
            clean[name] = normalize_state(value or "")
        elif name == "zip":
            clean[name] = normalize_zip(value or "")
        elif name == "birth_date":
            clean[name] = _birth_date(value, today)
        elif name == "external_id":
            clean[name] = value or None
        elif name in ("first_name", "last_name", "address", "city"):
            limit = 200 if name == "address" else 100
            if len(value or "") > limit:
                raise ValidationError(f"{name.replace('_', ' ')} is too long", field=name)
            clean[name] = value or ""
        else:
            clean[name] = value
    return clean


def _birth_date(value: Any, today: date) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError as exc:
            raise ValidationError(
                f"'{value}' is not a date (use YYYY-MM-DD)", field="birth_date"
            ) from exc
    if value > today:
        raise ValidationError("The birth date is in the future.", field="birth_date")
    if value.year < 1900:
        raise ValidationError("The birth date is before 1900.", field="birth_date")
    return value


def create_customer(
    *,
    session: Session,
    actor: Actor,
    now: datetime,
    email_opt_in: bool = False,
    sms_opt_in: bool = False,
    **fields: Any,
) -> Customer:
    authorize(actor, Permission.EDIT_DATA)
    values = validate_fields(fields, today=now.date())
    if not (values.get("email") or values.get("phone") or values.get("external_id")):
        raise ValidationError("A customer needs an email, a phone number or a customer ID.")
    _check_external_id_free(session, values.get("external_id"), None)
    customer = Customer(source="manual", **values)
    if not customer.timezone:
        customer.timezone = timezone_for(
            zip_code=customer.zip, state=customer.state, phone=customer.phone
        )
    session.add(customer)
    session.flush()
    for channel, wanted in ((Channel.EMAIL, email_opt_in), (Channel.SMS, sms_opt_in)):
        if wanted:
            consent.set_consent(
                session=session,
                customer=customer,
                channel=channel,
                granted=True,
                source="manual",
                user_id=actor.user_id,
                now=now,
            )
    audit.record(
        session=session,
        actor=actor,
        action="customer.create",
        entity_type="customer",
        entity_id=customer.id,
        changes={k: str(v) for k, v in values.items() if v not in (None, "")},
    )
    return customer


def update_customer(
    *, session: Session, actor: Actor, customer_id: int, now: datetime, **fields: Any
) -> Customer:
    """Apply edits, recording old and new values in the audit log. The time zone follows a new
    address unless it is given too."""
    authorize(actor, Permission.EDIT_DATA)
    customer = get_customer(session=session, customer_id=customer_id)
    values = validate_fields(fields, today=now.date())
    if "external_id" in values:
        _check_external_id_free(session, values["external_id"], customer.id)
    changes = {
        name: [_plain(getattr(customer, name)), _plain(value)]
        for name, value in values.items()
        if getattr(customer, name) != value
    }
    if not changes:
        return customer
    for name, value in values.items():
        setattr(customer, name, value)
    address_moved = {"zip", "state", "phone"} & set(changes)
    if address_moved and "timezone" not in values:
        zone = timezone_for(zip_code=customer.zip, state=customer.state, phone=customer.phone)
        if zone and zone != customer.timezone:
            changes["timezone"] = [customer.timezone, zone]
            customer.timezone = zone
    for channel, address in ((Channel.EMAIL, "email"), (Channel.SMS, "phone")):
        # Consent belongs to an address: a new address starts without it.
        if address in changes and getattr(customer, f"{channel}_opt_in"):
            consent.set_consent(
                session=session,
                customer=customer,
                channel=channel,
                granted=False,
                source=f"{address} changed",
                user_id=actor.user_id,
                now=now,
            )
    audit.record(
        session=session,
        actor=actor,
        action="customer.update",
        entity_type="customer",
        entity_id=customer.id,
        changes=changes,
    )
    return customer


def _check_external_id_free(session: Session, external_id: str | None, own_id: int | None) -> None:
    if not external_id:
        return
    holder = session.scalar(select(Customer.id).where(Customer.external_id == external_id))
    if holder is not None and holder != own_id:
        raise Conflict(f"Customer ID {external_id} already belongs to customer #{holder}.")


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


def change_consent(
    *,
    session: Session,
    actor: Actor,
    customer_id: int,
    channel: Channel,
    granted: bool,
    now: datetime,
) -> ConsentRecord | None:
    """A marketer records a consent decision the customer gave in person or in writing."""
    authorize(actor, Permission.EDIT_DATA)
    customer = get_customer(session=session, customer_id=customer_id)
    return consent.set_consent(
        session=session,
        customer=customer,
        channel=channel,
        granted=granted,
        source="manual",
        user_id=actor.user_id,
        details={"recorded_by": actor.email},
        now=now,
    )


def soft_delete(*, session: Session, actor: Actor, customer_ids: list[int], now: datetime) -> int:
    """Hide customers from lists and sends; the rows (and their orders) stay."""
    authorize(actor, Permission.EDIT_DATA)
    customers = session.scalars(
        select(Customer).where(Customer.id.in_(customer_ids), Customer.deleted_at.is_(None))
    ).all()
    for customer in customers:
        customer.deleted_at = now
        audit.record(
            session=session,
            actor=actor,
            action="customer.delete",
            entity_type="customer",
            entity_id=customer.id,
        )
    return len(customers)


def restore(*, session: Session, actor: Actor, customer_id: int) -> Customer:
    authorize(actor, Permission.EDIT_DATA)
    customer = get_customer(session=session, customer_id=customer_id, include_deleted=True)
    if customer.deleted_at is None:
        return customer
    customer.deleted_at = None
    audit.record(
        session=session,
        actor=actor,
        action="customer.restore",
        entity_type="customer",
        entity_id=customer.id,
    )
    return customer
