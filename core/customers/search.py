"""The customer list: filters, sorts, search by the start of a name, email or phone digits,
and pages of rows."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    SQLColumnExpression,
    and_,
    case,
    exists,
    func,
    or_,
    select,
)
from sqlalchemy.orm import Session

from core.compliance import reachable_channels
from core.errors import ValidationError
from core.models import Channel, Customer, SegmentMember

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
    reach: dict[int, list[Channel]] = field(default_factory=dict)
    """The channels marketing may use for each customer on the page, by the campaigns' rule."""

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
    return session.execute(
        select(func.count(Customer.id)).where(Customer.deleted_at.is_(None))
    ).scalar_one()


def filtered_ids(*, session: Session, filters: CustomerFilter) -> Select[int]:
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
    today: date,
) -> CustomerPage:
    """One page of customers, with whom marketing may reach on `today` (the store's day). With
    a search, the most relevant come first."""
    conditions = _conditions(filters, _dialect(session))
    counted = select(Customer.id).where(*conditions).limit(COUNT_LIMIT + 1).subquery()
    total = session.execute(select(func.count()).select_from(counted)).scalar_one()
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
    rows = list(session.scalars(query.limit(page_size).offset((page - 1) * page_size)))
    reach = reachable_channels(session=session, customer_ids=[c.id for c in rows], today=today)
    return CustomerPage(rows, total, page, page_size, exact, reach)


def _conditions(filters: CustomerFilter, dialect: str) -> list[SQLColumnExpression[bool]]:
    conditions: list[SQLColumnExpression[bool]] = [
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


def _consent_condition(choice: ConsentFilter) -> SQLColumnExpression[bool]:
    email_ok, sms_ok = Customer.can_email, Customer.can_text
    return {
        ConsentFilter.EMAIL: email_ok,
        ConsentFilter.SMS: sms_ok,
        ConsentFilter.ANY: or_(email_ok, sms_ok),
        ConsentFilter.NONE: and_(~email_ok, ~sms_ok),
    }[choice]


MAX_SEARCH_CHARS = 100
MAX_SEARCH_WORDS = 6


def _search_terms(query: str) -> list[str]:
    """Lowercase words; a query that is mostly digits is read as (part of) a phone number.

    Raises:
        ValidationError: the query is longer than any name, email or phone (each word is one
            more index scan: a pasted paragraph would keep the database busy for seconds).
    """
    query = query.strip().lower()
    if len(query) > MAX_SEARCH_CHARS or len(query.split()) > MAX_SEARCH_WORDS:
        raise ValidationError(
            f"Search with at most {MAX_SEARCH_WORDS} words and {MAX_SEARCH_CHARS} characters: "
            "part of a name, an email or a phone number.",
            field="search",
        )
    digits = re.sub(r"\D", "", query)
    if len(digits) >= 3 and not re.search(r"[a-z@]", query):
        return [digits]
    return [word for word in query.split() if word]


def _phone_prefix(digits: str) -> str:
    """Digits as typed → the start of an E.164 number: '312555' → '+1312555'."""
    return "+" + digits if digits.startswith("1") or len(digits) > 10 else "+1" + digits


def _starts_with(
    expression: SQLColumnExpression[str | None], prefix: str, dialect: str
) -> ColumnElement[bool]:
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
