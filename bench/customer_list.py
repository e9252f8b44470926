"""Customer list and search latency on a large store (default 1,000,000 customers).

Usage: python bench/customer_list.py [--customers 1000000] [--backends sqlite postgresql]
Loads customers straight into a scratch database, then times each kind of list query (median of
5 runs, ms) against a baseline in the same run: fetching 50 customers by primary key.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.scratch import add_database_arguments, analyze, each_database, report  # noqa: E402


def fill(url: str, n: int) -> None:
    os.environ["DATABASE_URL"] = url
    from core.db import reset_engines, session_scope
    from core.infra import bulk, migration_runner
    from core.models import Customer

    reset_engines()
    migration_runner.upgrade(url)
    rng = np.random.default_rng(3)
    first = np.array(["Ana", "Bob", "Cy", "Dee", "Eli", "Fay", "Gus", "Hal", "Ivy", "Joe"])
    last = np.array(["Smith", "Lopez", "Kim", "Nowak", "Stone", "Adams", "Young", "Baker"])
    now = pd.Timestamp.now(tz="UTC")
    for start in range(0, n, 100_000):
        ids = np.arange(start + 1, min(n, start + 100_000) + 1)
        k = len(ids)
        frame = pd.DataFrame(
            {
                "id": ids,
                "external_id": [f"P{i:07d}" for i in ids],
                "email": [f"shopper{i}@example.com" for i in ids],
                "phone": [f"+1312{i:07d}" for i in ids],
                "first_name": rng.choice(first, k),
                "last_name": rng.choice(last, k),
                "age_verified": True,
                "address": "",
                "city": rng.choice(["Chicago", "Evanston"], k),
                "state": "IL",
                "zip": rng.choice(["60622", "60614", "60201"], k),
                "email_opt_in": rng.random(k) < 0.7,
                "email_status": "active",
                "sms_opt_in": rng.random(k) < 0.3,
                "sms_status": "active",
                "order_count": rng.integers(0, 40, k),
                "total_spent_cents": rng.integers(0, 500_000, k),
                "last_order_at": now - pd.to_timedelta(rng.integers(0, 365, k), "D"),
                "churn_risk": rng.choice(["low", "medium", "high"], k),
                "source": "bench",
                "created_at": now - pd.to_timedelta(rng.integers(0, 900, k), "D"),
                "updated_at": now,
            }
        )
        with session_scope() as session:
            bulk.insert_frame(session, Customer.__table__, frame)


def timings(url: str) -> dict[str, float]:
    from sqlalchemy import select

    from core import customers
    from core.customers import ChurnRisk, ConsentFilter, CustomerFilter, SortKey
    from core.db import reset_engines, session_scope
    from core.models import Customer

    reset_engines()
    cases = {
        "newest_first": dict(),
        "top_spenders": dict(sort=SortKey.SPENT),
        "page_500": dict(page=500),
        "search_name": dict(filters=CustomerFilter(search="smi")),
        "search_two_words": dict(filters=CustomerFilter(search="ana smi")),
        "search_email": dict(filters=CustomerFilter(search="shopper123456@example.com")),
        "search_phone_digits": dict(filters=CustomerFilter(search="312 000 12")),
        "filter_high_risk_emailable": dict(
            filters=CustomerFilter(churn_risk=(ChurnRisk.HIGH,), consent=ConsentFilter.EMAIL)
        ),
        "filter_zip": dict(filters=CustomerFilter(zip_prefix="6020")),
    }
    out: dict[str, float] = {}
    with session_scope(read_only=True) as session:

        def baseline() -> None:
            session.scalars(select(Customer).where(Customer.id.in_(range(1000, 1050)))).all()

        for name, fn in [("baseline_50_by_id", baseline)] + [
            (name, lambda kwargs=kwargs: customers.list_customers(session=session, **kwargs))
            for name, kwargs in cases.items()
        ]:
            runs = []
            for _ in range(5):
                started = time.perf_counter()
                fn()
                session.expunge_all()
                runs.append((time.perf_counter() - started) * 1000)
            out[name] = round(statistics.median(runs), 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=1_000_000)
    add_database_arguments(parser)
    args = parser.parse_args()
    for backend, url in each_database(args):
        started = time.monotonic()
        fill(url, args.customers)
        analyze(url)
        loaded = time.monotonic() - started
        result = timings(url)
        base = result["baseline_50_by_id"]
        report(
            bench="customer_list",
            backend=backend,
            customers=args.customers,
            load_s=round(loaded, 1),
            ms=result,
            ratio_to_baseline={k: round(v / base, 1) for k, v in result.items()},
        )


if __name__ == "__main__":
    main()
