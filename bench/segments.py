"""Segment speed on a large store (default 1,000,000 customers).

Usage: python bench/segments.py [--customers 1000000] [--backends sqlite postgresql]

Times, against a baseline measured in the same run (counting every live customer):
- the live count of a three-condition rule (median of 5, ms; target < 300 ms),
- the refresh of a segment with ~200,000 members (median of 3, s; target < 5 s),
- the overlap of three segments (ms).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.customer_list import fill  # noqa: E402
from bench.scratch import add_database_arguments, analyze, each_database, report  # noqa: E402

THREE_CONDITIONS = {
    "match": "all",
    "conditions": [
        {"field": "churn_risk", "op": "in", "value": ["high", "medium"]},
        {"field": "total_spent", "op": "gte", "value": 500},
        {"field": "can_email", "op": "is_true"},
    ],
}
# total_spent is uniform on $0–$5,000 in the bench data: a fifth of the store spent $4,000+.
TWO_HUNDRED_THOUSAND = {
    "match": "all",
    "conditions": [{"field": "total_spent", "op": "gte", "value": 4000}],
}
HIGH_RISK = {"match": "all", "conditions": [{"field": "churn_risk", "op": "in", "value": ["high"]}]}


def median_of(runs: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def timings() -> dict[str, float]:
    from sqlalchemy import func, select

    from core import segments
    from core.db import reset_engines, session_scope, utc_now
    from core.models import Customer
    from core.permissions import SYSTEM

    reset_engines()
    out: dict[str, float] = {}
    with session_scope(read_only=True) as session:
        everyone = select(func.count()).where(Customer.deleted_at.is_(None))
        out["baseline_count_all_ms"] = median_of(5, lambda: session.scalar(everyone)) * 1000
        out["count_three_conditions_ms"] = (
            median_of(
                5,
                lambda: segments.count_matching(
                    session=session, rules=THREE_CONDITIONS, now=utc_now()
                ),
            )
            * 1000
        )
        out["matching"] = segments.count_matching(
            session=session, rules=THREE_CONDITIONS, now=utc_now()
        )
    with session_scope() as session:
        big = segments.create_segment(
            session=session, actor=SYSTEM, name="Big", rules=TWO_HUNDRED_THOUSAND, now=utc_now()
        )
        other = segments.create_segment(
            session=session, actor=SYSTEM, name="Three", rules=THREE_CONDITIONS, now=utc_now()
        )
        big_id, other_id, out["refreshed_members"] = big.id, other.id, big.member_count

    def refresh() -> None:
        with session_scope() as session:
            segments.refresh_segment(
                session=session, actor=SYSTEM, segment_id=big_id, now=utc_now()
            )

    out["refresh_200k_s"] = median_of(3, refresh)
    with session_scope() as session:
        third = segments.create_segment(
            session=session, actor=SYSTEM, name="High risk", rules=HIGH_RISK, now=utc_now()
        )
        ids = [big_id, other_id, third.id]
    with session_scope(read_only=True) as session:
        out["overlap_three_ms"] = (
            median_of(3, lambda: segments.overlap(session=session, segment_ids=ids)) * 1000
        )
    return {k: round(v, 3) if k.endswith("_s") else round(v, 1) for k, v in out.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=1_000_000)
    add_database_arguments(parser)
    args = parser.parse_args()
    for backend, url in each_database(args):
        fill(url, args.customers)
        analyze(url)
        result = timings()
        base = result["baseline_count_all_ms"]
        report(
            bench="segments",
            backend=backend,
            customers=args.customers,
            **result,
            count_ratio_to_baseline=round(result["count_three_conditions_ms"] / base, 2),
            refresh_ratio_to_baseline=round(result["refresh_200k_s"] * 1000 / base, 1),
        )


if __name__ == "__main__":
    main()
