"""Orders and the per-customer totals derived from them."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from core.models import Customer, Order


def refresh_customer_totals(*, session: Session, customer_ids: Iterable[int]) -> int:
    """Recompute order count, total spent and first/last order from the orders table.

    Set-based UPDATEs with correlated subqueries (indexed by customer_id, ordered_at), for the
    given customers in chunks.

    Returns:
        The number of customers updated.
    """
    mine = Order.customer_id == Customer.id
    statement = update(Customer).values(
        order_count=select(func.count(Order.id)).where(mine).scalar_subquery(),
        total_spent_cents=select(func.coalesce(func.sum(Order.total_cents), 0))
        .where(mine)
        .scalar_subquery(),
        first_order_at=select(func.min(Order.ordered_at)).where(mine).scalar_subquery(),
        last_order_at=select(func.max(Order.ordered_at)).where(mine).scalar_subquery(),
    )
    ids = list(customer_ids)
    updated = 0
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        result = session.execute(
            statement.where(Customer.id.in_(chunk)).execution_options(synchronize_session=False)
        )
        updated += result.rowcount
    return updated
