"""Customer exports: the list (or chosen customers) as CSV, streamed in batches, safe for Excel."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict
from datetime import date
from typing import Any, TextIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.compliance.age import age_on
from core.customers.search import ALL_CUSTOMERS, CustomerFilter, filtered_ids
from core.db import UnitOfWork
from core.errors import ValidationError
from core.infra import audit
from core.infra.csv_safe import write_csv
from core.models import Customer
from core.permissions import Actor, Permission, authorize

BATCH = 5000

CUSTOMER_COLUMNS = (
    "lastcall_id",
    "external_id",
    "first_name",
    "last_name",
    "email",
    "phone",
    "birth_date",
    "age",
    "address",
    "city",
    "state",
    "zip",
    "timezone",
    "email_opt_in",
    "sms_opt_in",
    "email_status",
    "sms_status",
    "order_count",
    "total_spent",
    "first_order_at",
    "last_order_at",
    "r_score",
    "f_score",
    "m_score",
    "rfm_segment",
    "p_alive",
    "churn_risk",
    "expected_orders",
    "predicted_clv",
    "preferred_category",
    "average_order",
    "days_between_orders",
    "next_order_expected_on",
    "scored_at",
    "source",
    "created_at",
)


def _dollars(cents: int | None) -> str | None:
    return None if cents is None else f"{cents / 100:.2f}"


def _customer_row(c: Customer, today: date) -> list[Any]:
    return [
        c.id,
        c.external_id,
        c.first_name,
        c.last_name,
        c.email,
        c.phone,
        c.birth_date,
        age_on(c.birth_date, today) if c.birth_date else None,
        c.address,
        c.city,
        c.state,
        c.zip,
        c.timezone,
        c.email_opt_in,
        c.sms_opt_in,
        c.email_status,
        c.sms_status,
        c.order_count,
        _dollars(c.total_spent_cents),
        c.first_order_at,
        c.last_order_at,
        c.r_score,
        c.f_score,
        c.m_score,
        c.rfm_segment,
        None if c.p_alive is None else round(c.p_alive, 4),
        c.churn_risk,
        None if c.expected_orders is None else round(c.expected_orders, 3),
        _dollars(c.predicted_clv_cents),
        c.preferred_category,
        _dollars(c.average_order_cents),
        None if c.days_between_orders is None else round(c.days_between_orders, 1),
        c.next_order_expected_on,
        c.scored_at,
        c.source,
        c.created_at,
    ]


def export_customers(
    *,
    unit_of_work: UnitOfWork,
    actor: Actor,
    out: TextIO,
    filters: CustomerFilter = ALL_CUSTOMERS,
    customer_ids: Sequence[int] | None = None,
    today: date,
) -> int:
    """Write the matching customers (or exactly `customer_ids`) as CSV, in id order, streamed
    in batches so a million rows never sit in memory at once, then record who exported what in
    the audit log. Returns the row count.

    Personal data leaves the app here, so only roles that may export can, and deleted customers
    (kept only so they can be restored) never leave.

    Raises:
        PermissionDenied: the actor's role may not export.
        ValidationError: the filters ask for deleted customers.
    """
    authorize(actor, Permission.EXPORT_DATA)
    if filters.deleted:
        raise ValidationError("Deleted customers are not exported; restore them first.")
    with unit_of_work(read_only=True) as session:
        count = _write_customers(session, out, filters, customer_ids, today)
    with unit_of_work() as session:
        audit.record(
            session=session,
            actor=actor,
            action="customers.exported",
            entity_type="customer",
            changes={
                "rows": count,
                "filters": {
                    name: value
                    for name, value in asdict(filters).items()
                    if value != getattr(ALL_CUSTOMERS, name)
                },
                "chosen": len(customer_ids) if customer_ids is not None else None,
            },
        )
    return count


def _write_customers(
    session: Session,
    out: TextIO,
    filters: CustomerFilter,
    customer_ids: Sequence[int] | None,
    today: date,
) -> int:
    ids = filtered_ids(session=session, filters=filters)
    if customer_ids is not None:
        ids = ids.where(Customer.id.in_(list(customer_ids)))

    def rows() -> Iterable[list[Any]]:
        last = 0
        while True:
            batch = session.scalars(
                select(Customer)
                .where(Customer.id.in_(ids), Customer.id > last)
                .order_by(Customer.id)
                .limit(BATCH)
            ).all()
            if not batch:
                return
            for customer in batch:
                yield _customer_row(customer, today)
            last = batch[-1].id
            session.expunge_all()

    return write_csv(out, CUSTOMER_COLUMNS, rows())
