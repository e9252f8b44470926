"""Customers who may be the same person twice."""

from __future__ import annotations

from sqlalchemy import (
    func,
    or_,
    select,
)
from sqlalchemy.orm import Session

from core.customers.records import get_customer
from core.models import Customer


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
            groups.append((str(value), list(ids)))
    return sorted(groups, key=lambda group: -len(group[1]))[:limit]
