"""The Analytics dashboard on a large store.

Usage: python bench/dashboard.py [--customers 1000000] [--orders 5000000] [--events 10000000]
                                 [--backends postgresql]

A year of `orders` (one item each) from `customers`; twenty weekly campaigns, each to a
tenth of the customers (10 % held out, 2 % of the sent paying with their code), and `events`
provider events about them; two segments of a tenth of the customers each. Times, against a
baseline measured in the same run (the period's order count and revenue, one aggregate query):
- the job that keeps campaign results and the dashboard's snapshots (run by the clock after
  imports and sends);
- the dashboard's key figures for the last 30 days and the 30 before (`analytics.dashboard`),
  cold (first call in the process, the job's snapshot in the database) and warm (median of
  3), and the same for a custom 28 days (no snapshot: computed when asked, the two periods
  at once as the page does);
- the trend by day, the categories, the segments, the cohorts and churn (each warm).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.customer_list import fill  # noqa: E402
from bench.scratch import add_database_arguments, analyze, each_database, report  # noqa: E402

TODAY = date(2026, 11, 26)
NOW = datetime(2026, 11, 26, 18, tzinfo=UTC)
CHICAGO = ZoneInfo("America/Chicago")
CAMPAIGNS = 20
CATEGORIES = np.array(["wine", "beer", "spirits", "mixers", "accessories"])


def fill_store(customers: int, orders: int, events: int) -> None:
    from core.customers.totals import refresh_customer_totals
    from core.db import session_scope
    from core.infra import bulk
    from core.messaging.offer_codes import offer_code
    from core.models import (
        Campaign,
        CampaignStatus,
        Event,
        Message,
        Order,
        OrderItem,
        Segment,
        SegmentMember,
    )

    rng = np.random.default_rng(7)
    audience = customers // 10
    year_ago = pd.Timestamp(NOW - timedelta(days=365))
    frame = pd.DataFrame(
        {
            "id": np.arange(1, orders + 1),
            "customer_id": rng.integers(1, customers + 1, orders),
            "ordered_at": year_ago + pd.to_timedelta(rng.integers(0, 365 * 1440, orders), "min"),
            "total_cents": rng.integers(800, 20_000, orders),
            "discount_cents": 0,
            "channel": "in_store",
            "promo_code": None,
            "created_at": pd.Timestamp(NOW),
        }
    )
    items = pd.DataFrame(
        {
            "id": frame["id"],
            "order_id": frame["id"],
            "sku": "",
            "category": CATEGORIES[rng.integers(0, len(CATEGORIES), orders)],
            "quantity": 1,
            "unit_price_cents": frame["total_cents"],
            "line_total_cents": frame["total_cents"],
        }
    )
    message_frames = []
    with session_scope() as session:
        for week in range(CAMPAIGNS):
            campaign = Campaign(
                name=f"Week {week}", status=CampaignStatus.COMPLETED, holdout_percent=10
            )
            session.add(campaign)
            session.flush()
            sent_at = pd.Timestamp(NOW - timedelta(days=7 * (CAMPAIGNS - week)))
            held = rng.random(audience) < 0.10
            opened = ~held & (rng.random(audience) < 0.38)
            ids = np.arange(week * audience + 1, (week + 1) * audience + 1)
            opened_at = pd.Series(sent_at + pd.to_timedelta(rng.integers(1, 2880, audience), "min"))
            message_frames.append(
                pd.DataFrame(
                    {
                        "id": ids,
                        "key": [f"bench:{i}" for i in ids],
                        "campaign_id": campaign.id,
                        "customer_id": rng.choice(customers, audience, replace=False) + 1,
                        "channel": "email",
                        "to_address": "",
                        "status": np.where(held, "held_out", "delivered"),
                        "send_after": sent_at,
                        "attempts": 1,
                        "subject": "",
                        "segments": 0,
                        "cost_cents": np.where(held, 0.0, 0.08),
                        "error": "",
                        "created_at": sent_at,
                        "provider": np.where(held, None, "mailgun"),
                        "sent_at": pd.Series(sent_at, index=range(audience)).where(~held),
                        "delivered_at": pd.Series(sent_at, index=range(audience)).where(~held),
                        "opened_at": opened_at.where(opened),
                        "clicked_at": (opened_at + pd.Timedelta(minutes=5)).where(
                            opened & (rng.random(audience) < 0.29)
                        ),
                        "offer_code": [offer_code(b"bench-key", int(i)) for i in ids],
                    }
                )
            )
    messages = pd.concat(message_frames, ignore_index=True)
    redeemed = np.flatnonzero(messages["sent_at"].notna() & (rng.random(len(messages)) < 0.02))
    frame.loc[: len(redeemed) - 1, "customer_id"] = messages["customer_id"].to_numpy()[redeemed]
    frame.loc[: len(redeemed) - 1, "promo_code"] = messages["offer_code"].to_numpy()[redeemed]
    frame.loc[: len(redeemed) - 1, "ordered_at"] = messages["sent_at"].to_numpy()[redeemed]
    kinds = np.array(["email.delivered", "email.opened", "email.clicked", "email.opted_out"])
    about = rng.integers(0, len(messages), events)
    event_frame = pd.DataFrame(
        {
            "id": np.arange(1, events + 1),
            "type": kinds[rng.choice(4, events, p=[0.6, 0.3, 0.095, 0.005])],
            "occurred_at": messages["sent_at"].to_numpy()[about],
            "customer_id": messages["customer_id"].to_numpy()[about],
            "campaign_id": messages["campaign_id"].to_numpy()[about],
            "message_id": messages["id"].to_numpy()[about],
            "data": "{}",
        }
    )
    event_frame["occurred_at"] = event_frame["occurred_at"].fillna(pd.Timestamp(NOW))
    with session_scope() as session:
        for table, rows, size in (
            (Order.__table__, frame, 250_000),
            (OrderItem.__table__, items, 250_000),
            (Message.__table__, messages, 100_000),
            (Event.__table__, event_frame, 250_000),
        ):
            for start in range(0, len(rows), size):
                bulk.insert_frame(session, table, rows.iloc[start : start + size])
        refresh_customer_totals(session=session, customer_ids=range(1, customers + 1))
        for name in ("Regulars", "Lapsed"):
            segment = Segment(name=name)
            session.add(segment)
            session.flush()
            members = rng.choice(customers, audience, replace=False) + 1
            bulk.insert_frame(
                session,
                SegmentMember.__table__,
                pd.DataFrame({"segment_id": segment.id, "customer_id": members, "added_at": NOW}),
            )


def timed(call: Callable[[], Any], runs: int = 3) -> tuple[float, float]:
    """(cold ms, warm ms: the median of `runs` more)."""
    started = time.perf_counter()
    call()
    cold = (time.perf_counter() - started) * 1000
    warm = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        warm.append((time.perf_counter() - started) * 1000)
    return round(cold, 1), round(statistics.median(warm), 1)


def timings() -> dict[str, float]:
    from sqlalchemy import func, select

    from core import analytics
    from core.analytics import Bucket, Period, refresh
    from core.db import reset_engines, session_scope
    from core.models import Order

    reset_engines()
    period = Period.last_days(30, today=TODAY)
    out: dict[str, float] = {}
    # What the job does after imports and sends: keep every campaign's results and the
    # preset periods' figures, the cohorts and churn.
    started = time.perf_counter()
    with session_scope() as session:
        kept = refresh.refresh_dashboard(session=session, now=NOW)
    out["refresh_job_ms"] = round((time.perf_counter() - started) * 1000, 1)
    out["kept_campaigns"] = kept["campaigns"]

    def measure(name: str, work: Callable[..., Any]) -> None:
        def call() -> Any:
            with session_scope(read_only=True) as session:
                return work(session)

        out[f"{name}_cold_ms"], out[f"{name}_warm_ms"] = timed(call)

    measure(
        "dashboard",
        lambda s: analytics.dashboard(session=s, period=period, zone=CHICAGO, now=NOW),
    )
    custom = Period(TODAY - timedelta(days=27), TODAY)  # no snapshot: computed when asked
    measure(
        "dashboard_custom_range",
        lambda s: analytics.dashboard(
            session=s, period=custom, zone=CHICAGO, now=NOW, unit_of_work=session_scope
        ),
    )
    measure(
        "trend",
        lambda s: analytics.revenue_trend(
            session=s, period=period, zone=CHICAGO, bucket=Bucket.DAY, now=NOW
        ),
    )
    measure(
        "categories",
        lambda s: analytics.category_revenue(session=s, period=period, zone=CHICAGO, now=NOW),
    )
    measure(
        "segments",
        lambda s: analytics.segment_performance(session=s, period=period, zone=CHICAGO, now=NOW),
    )
    measure("cohorts", lambda s: analytics.cohorts(session=s, today=TODAY, zone=CHICAGO, now=NOW))
    measure(
        "churn", lambda s: analytics.churn_by_month(session=s, today=TODAY, zone=CHICAGO, now=NOW)
    )
    start, end = period.bounds(CHICAGO)
    baseline = select(func.count(), func.sum(Order.total_cents)).where(
        Order.ordered_at >= start, Order.ordered_at < end
    )
    measure("baseline_aggregate", lambda s: s.execute(baseline).one())
    out["ratio_dashboard_cold_to_baseline"] = round(
        out["dashboard_cold_ms"] / out["baseline_aggregate_warm_ms"], 3
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--orders", type=int, default=5_000_000)
    parser.add_argument("--events", type=int, default=10_000_000)
    add_database_arguments(parser, backends=("postgresql",))
    args = parser.parse_args()
    for backend, url in each_database(args):
        started = time.perf_counter()
        fill(url, args.customers)
        fill_store(args.customers, args.orders, args.events)
        analyze(url)
        filled = round(time.perf_counter() - started)
        report(
            bench="dashboard",
            backend=backend,
            customers=args.customers,
            orders=args.orders,
            events=args.events,
            fill_seconds=filled,
            **timings(),
        )


if __name__ == "__main__":
    main()
