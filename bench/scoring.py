"""Scoring speed on a large store (default 1,000,000 customers and 5,000,000 orders, PostgreSQL).

Usage: python bench/scoring.py [--customers 1000000] [--orders 5000000] [--backends postgresql]

Fills a scratch database with customers and orders drawn from a BG/NBD-like process (each
customer buys at their own rate, then may drop out), then times score_customers end to end and
each of its phases. The baseline, measured in the same run, is the one aggregate no scoring can
skip: orders, first and last order, and spend per customer.
Target: under 2 minutes end to end for 1M customers / 5M orders on PostgreSQL.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.customer_list import fill  # noqa: E402
from bench.scratch import add_database_arguments, analyze, each_database, report  # noqa: E402

TODAY = date(2026, 11, 26)
CATEGORIES = np.array(["wine", "beer", "spirits", "mixers", "accessories"])
CHUNK = 500_000


def fill_orders(customers: int, orders: int) -> int:
    """About `orders` orders over two years; returns how many were written."""
    from core.db import session_scope
    from core.infra import bulk
    from core.models import Order, OrderItem

    rng = np.random.default_rng(5)
    end = pd.Timestamp(datetime.combine(TODAY, datetime.min.time(), UTC))
    start = end - pd.Timedelta(days=730)
    # Heterogeneous rates (gamma) scaled to the wanted total, each customer joining at random.
    rates = rng.gamma(0.8, 1.0, customers)
    joined = rng.uniform(0, 730, customers)
    counts = rng.poisson(rates / rates.mean() * orders / customers * (730 - joined) / 365)
    owner = np.repeat(np.arange(1, customers + 1), counts)
    written = 0
    for begin in range(0, len(owner), CHUNK):
        who = owner[begin : begin + CHUNK]
        n = len(who)
        ids = np.arange(begin + 1, begin + n + 1)
        days = joined[who - 1] + rng.uniform(0, 1, n) * (730 - joined[who - 1])
        at = start + pd.to_timedelta(days, "D")
        totals = rng.gamma(2.0, 3000, n).astype("int64") + 500
        order_frame = pd.DataFrame(
            {
                "id": ids,
                "customer_id": who,
                "ordered_at": at,
                "total_cents": totals,
                "discount_cents": 0,
                "channel": "in_store",
                "created_at": at,
            }
        )
        item_frame = pd.DataFrame(
            {
                "id": ids,
                "order_id": ids,
                "sku": "",
                "quantity": 1,
                "category": rng.choice(CATEGORIES, n, p=[0.4, 0.3, 0.2, 0.06, 0.04]),
                "unit_price_cents": totals,
                "line_total_cents": totals,
            }
        )
        with session_scope() as session:
            bulk.insert_frame(session, Order.__table__, order_frame)
            bulk.insert_frame(session, OrderItem.__table__, item_frame)
        written += n
    return written


def baseline_seconds() -> float:
    from sqlalchemy import func, select

    from core.db import session_scope
    from core.models import Order

    started = time.perf_counter()
    with session_scope(read_only=True) as session:
        session.execute(
            select(
                Order.customer_id,
                func.count(),
                func.min(Order.ordered_at),
                func.max(Order.ordered_at),
                func.sum(Order.total_cents),
            ).group_by(Order.customer_id)
        ).all()
    return time.perf_counter() - started


def score() -> tuple[float, dict[str, float], dict]:
    from core import scoring
    from core.db import session_scope, utc_now
    from core.permissions import SYSTEM

    phases: dict[str, float] = {}
    started = last = time.perf_counter()
    current = "start"

    def progress(_percent: int, message: str = "") -> None:
        nonlocal last, current
        now = time.perf_counter()
        phases[current] = round(now - last, 1)
        current, last = message or current, now

    summary = scoring.score_customers(
        unit_of_work=session_scope,
        actor=SYSTEM,
        as_of=TODAY - timedelta(days=1),
        progress=progress,
        now=utc_now(),
    )
    total = time.perf_counter() - started
    phases[current] = round(time.perf_counter() - last, 1)
    return total, phases, summary.as_dict()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--orders", type=int, default=5_000_000)
    add_database_arguments(parser, backends=("postgresql",))
    args = parser.parse_args()
    for backend, url in each_database(args):
        started = time.monotonic()
        fill(url, args.customers)
        orders = fill_orders(args.customers, args.orders)
        analyze(url)
        loaded = time.monotonic() - started
        base = baseline_seconds()
        seconds, phases, summary = score()
        report(
            bench="scoring",
            backend=backend,
            customers=args.customers,
            orders=orders,
            fill_s=round(loaded, 1),
            baseline_aggregate_s=round(base, 1),
            scoring_s=round(seconds, 1),
            ratio_to_baseline=round(seconds / base, 1),
            phases_s=phases,
            customers_scored=summary["customers_scored"],
            model=summary["model"],
            holdout_revenue_error=summary["holdout"].get("revenue_error"),
        )


if __name__ == "__main__":
    main()
