"""A campaign's results on a large store: revenue by code and by window, and the lift.

Usage: python bench/attribution.py [--customers 1000000] [--audience 200000] [--orders 3000000]
                                   [--backends sqlite postgresql]

One campaign emailed `audience` customers (10 % held out; of the sent, 38 % opened, 11 %
clicked, 2 % paid with their code); `orders` orders are spread over the 90 days around it.
Times, against a baseline measured in the same run (the audience's order count and revenue in
the campaign's period, one aggregate query):
- `campaign_results` for that campaign, cold (first call) and warm (median of 3), in ms.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.customer_list import fill  # noqa: E402
from bench.scratch import add_database_arguments, analyze, each_database, report  # noqa: E402

SENT_AT = datetime(2026, 10, 1, 15, tzinfo=UTC)
NOW = SENT_AT + timedelta(days=45)


def fill_campaign(customers: int, audience: int, orders: int) -> int:
    from core.db import session_scope
    from core.infra import bulk
    from core.messaging.offer_codes import offer_code
    from core.models import Campaign, CampaignStatus, Message, Order

    rng = np.random.default_rng(11)
    with session_scope() as session:
        campaign = Campaign(name="Bench", status=CampaignStatus.COMPLETED, holdout_percent=10)
        session.add(campaign)
        session.flush()
        campaign_id = campaign.id
    who = rng.choice(np.arange(1, customers + 1), audience, replace=False)
    held = rng.random(audience) < 0.10
    opened = ~held & (rng.random(audience) < 0.38)
    clicked = opened & (rng.random(audience) < 0.29)
    ids = np.arange(1, audience + 1)
    minutes = pd.to_timedelta(rng.integers(1, 2880, audience), "min")
    opened_at = pd.Series(pd.Timestamp(SENT_AT) + minutes).where(opened)
    messages = pd.DataFrame(
        {
            "id": ids,
            "key": [f"bench:{i}" for i in ids],
            "campaign_id": campaign_id,
            "customer_id": who,
            "channel": "email",
            "to_address": "",
            "status": np.where(held, "held_out", "delivered"),
            "send_after": SENT_AT,
            "attempts": 1,
            "subject": "",
            "segments": 0,
            "cost_cents": np.where(held, 0.0, 0.08),
            "error": "",
            "created_at": SENT_AT,
            "sent_at": pd.Series(pd.Timestamp(SENT_AT), index=range(audience)).where(~held),
            "opened_at": opened_at,
            "clicked_at": (opened_at + pd.Timedelta(minutes=5)).where(clicked),
            "offer_code": [
                None if h else offer_code(b"bench-key", int(i))
                for h, i in zip(held, ids, strict=True)
            ],
        }
    )
    with session_scope() as session:
        for start in range(0, audience, 50_000):
            bulk.insert_frame(session, Message.__table__, messages.iloc[start : start + 50_000])
    redeemers = np.flatnonzero(~held & (rng.random(audience) < 0.02))
    buyers = rng.integers(1, customers + 1, orders)
    buyers[: len(redeemers)] = who[redeemers]
    at = pd.Timestamp(SENT_AT - timedelta(days=45)) + pd.to_timedelta(
        rng.integers(0, 90 * 24 * 60, orders), "min"
    )
    codes = np.full(orders, None, dtype=object)
    codes[: len(redeemers)] = messages["offer_code"].to_numpy()[redeemers]
    frame = pd.DataFrame(
        {
            "id": np.arange(1, orders + 1),
            "customer_id": buyers,
            "ordered_at": at,
            "total_cents": rng.integers(800, 20_000, orders),
            "discount_cents": 0,
            "channel": "in_store",
            "promo_code": codes,
            "created_at": pd.Timestamp(NOW),
        }
    )
    with session_scope() as session:
        for start in range(0, orders, 200_000):
            bulk.insert_frame(session, Order.__table__, frame.iloc[start : start + 200_000])
    return campaign_id


def timings(campaign_id: int) -> dict[str, float]:
    from sqlalchemy import func, select

    from core import attribution
    from core.db import reset_engines, session_scope
    from core.models import Message, Order

    reset_engines()
    out: dict[str, float] = {}
    audience = select(Message.customer_id).where(Message.campaign_id == campaign_id)
    baseline = select(func.count(), func.sum(Order.total_cents)).where(
        Order.customer_id.in_(audience.scalar_subquery()),
        Order.ordered_at >= SENT_AT,
        Order.ordered_at <= SENT_AT + timedelta(days=5),
    )

    def results() -> attribution.Results:
        with session_scope(read_only=True) as session:
            return attribution.campaign_results(
                session=session, campaign_ids=[campaign_id], now=NOW
            )[campaign_id]

    started = time.perf_counter()
    found = results()
    out["results_cold_ms"] = (time.perf_counter() - started) * 1000
    runs = []
    for _ in range(3):
        started = time.perf_counter()
        results()
        runs.append(time.perf_counter() - started)
    out["results_warm_ms"] = statistics.median(runs) * 1000
    with session_scope(read_only=True) as session:
        started = time.perf_counter()
        session.execute(baseline).one()
        out["baseline_aggregate_ms"] = (time.perf_counter() - started) * 1000
    out = {k: round(v, 1) for k, v in out.items()}
    out["ratio_warm_to_baseline"] = round(out["results_warm_ms"] / out["baseline_aggregate_ms"], 1)
    out["code_orders"] = found.revenue.code_orders
    out["window_orders"] = round(found.revenue.window_orders)
    out["control"] = found.lift.control if found.lift else 0
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--audience", type=int, default=200_000)
    parser.add_argument("--orders", type=int, default=3_000_000)
    add_database_arguments(parser, backends=("postgresql",))
    args = parser.parse_args()
    for backend, url in each_database(args):
        fill(url, args.customers)
        campaign_id = fill_campaign(args.customers, args.audience, args.orders)
        analyze(url)
        report(
            bench="attribution",
            backend=backend,
            customers=args.customers,
            audience=args.audience,
            orders=args.orders,
            **timings(campaign_id),
        )


if __name__ == "__main__":
    main()
