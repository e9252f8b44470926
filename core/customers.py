"""Customers: lookups and counts."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.models import Customer


def count_customers(*, session: Session) -> int:
    """Customers that are not soft-deleted."""
    return session.scalar(select(func.count(Customer.id)).where(Customer.deleted_at.is_(None)))
