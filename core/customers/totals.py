"""Orders and the per-customer totals derived from them."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from core.db import rowcount
from core.infra import bulk
from core.models import Customer, Order, Setting

ORDERS_VERSION_KEY = "orders_version"


def note_orders_changed(session: Session) -> None:
    """Move the orders' version on: every write of orders ends by refreshing its customers'
    totals (imports, the demo), which calls this in the same transaction. Figures computed
    from orders are kept against the version they were computed at (`analytics.cache`)."""
    row = session.get(Setting, ORDERS_VERSION_KEY, with_for_update=True)
    if row is None:
        session.add(Setting(key=ORDERS_VERSION_KEY, value={"n": 1}))
    else:
        row.value = {"n": int(row.value.get("n", 0)) + 1}
    session.flush()


def orders_version(session: Session) -> int:
    row = session.get(Setting, ORDERS_VERSION_KEY)
    return int(row.value.get("n", 0)) if row else 0


def refresh_customer_totals(*, session: Session, customer_ids: Iterable[int]) -> int:
    """Recompute order count, total spent and first/last order from the orders table.

    One statement: the given customers outer-joined to their orders and aggregated, applied
    with UPDATE … FROM, so a customer left without orders gets zeros in the same pass.

    Returns:
        The number of customers updated.
    """
    ids = list(customer_ids)
    if not ids:
        return 0
    note_orders_changed(session)
    keys = bulk.key_set(session, ids, Customer.id.type).subquery("keys")
    totals = (
        select(
            keys.c.value.label("customer_id"),
            func.count(Order.id).label("orders"),
            func.coalesce(func.sum(Order.total_cents), 0).label("spent"),
            func.min(Order.ordered_at).label("first"),
            func.max(Order.ordered_at).label("last"),
        )
        .select_from(keys.outerjoin(Order, Order.customer_id == keys.c.value))
        .group_by(keys.c.value)
        .subquery()
    )
    changed = or_(
        Customer.order_count != totals.c.orders,
        Customer.total_spent_cents != totals.c.spent,
        Customer.first_order_at.is_distinct_from(totals.c.first),
        Customer.last_order_at.is_distinct_from(totals.c.last),
    )
    # Rows whose totals stand are left alone: on PostgreSQL every rewritten row costs an entry
    # in each of the table's indexes.
    return rowcount(
        session.execute(
            update(Customer)
            .where(Customer.id == totals.c.customer_id, changed)
            .values(
                order_count=totals.c.orders,
                total_spent_cents=totals.c.spent,
                first_order_at=totals.c.first,
                last_order_at=totals.c.last,
            )
            .execution_options(synchronize_session=False)
        )
    )
