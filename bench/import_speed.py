"""Import speed: customers and orders CSVs generated here, loaded end to end (parse, clean,
stage, upsert, checkpoint) on SQLite and PostgreSQL.

Usage: python bench/import_speed.py [--customers 10000 1000000] [--orders 1000000]
           [--backends sqlite postgresql] [--postgres postgresql+psycopg://…/postgres]
Prints one JSON line per run: rows, seconds, rows/s, peak RSS, and the ratio to two baselines
measured in the same run: pandas.read_csv of the same file (parsing alone), and the database's
floor (`database_floor`: the database alone writing the rows the import wrote).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.scratch import add_database_arguments, report, scratch_database  # noqa: E402


def customers_csv(path: Path, n: int, seed: int = 1) -> None:
    rng = np.random.default_rng(seed)
    ids = np.arange(1, n + 1)
    frame = pd.DataFrame(
        {
            "Customer #": [f"P{i:07d}" for i in ids],
            "First Name": rng.choice(["Ana", "Bob", "Cy", "Dee", "Eli", "Fay"], n),
            "Last Name": rng.choice(["Lopez", "Stone", "Young", "Adams", "Kim", "Nowak"], n),
            "E-mail": [f"shopper{i}@example.com" for i in ids],
            "Cell": [f"(312) {200 + i // 10000 % 800:03d}-{i % 10000:04d}" for i in ids],
            "DOB": pd.to_datetime(rng.integers(-15000, 1000, n), unit="D").strftime("%m/%d/%Y"),
            "Zip Code": rng.choice(["60622", "60614", "10001", "33139", "90026"], n),
            "Email Opt In": rng.choice(["Y", "N"], n),
            "SMS Opt In": rng.choice(["Y", "N"], n, p=[0.3, 0.7]),
        }
    )
    frame.to_csv(path, index=False)


def orders_csv(path: Path, n: int, customers: int, seed: int = 2) -> None:
    rng = np.random.default_rng(seed)
    stamps = pd.Timestamp("2025-11-01") + pd.to_timedelta(rng.integers(0, 365 * 24 * 60, n), "min")
    frame = pd.DataFrame(
        {
            "Receipt #": [f"T{i:08d}" for i in range(1, n + 1)],
            "Customer #": [f"P{i:07d}" for i in rng.integers(1, customers + 1, n)],
            "Date": stamps.strftime("%Y-%m-%d %H:%M"),
            "Order Total": (rng.gamma(2.0, 40.0, n) + 3).round(2),
        }
    )
    frame.to_csv(path, index=False)


def run(url: str, kind: str, path: Path) -> dict:
    os.environ["DATABASE_URL"] = url
    from core import imports
    from core.db import reset_engines, session_scope, utc_now
    from core.infra import migration_runner
    from core.models import ImportKind
    from core.permissions import SYSTEM

    reset_engines()
    migration_runner.upgrade(url)
    started = time.monotonic()
    with session_scope() as session:
        row = imports.prepare_import(
            session=session, actor=SYSTEM, kind=ImportKind(kind), path=path, filename=path.name
        )
        import_id = row.id
    summary = imports.run_import(
        unit_of_work=session_scope, actor=SYSTEM, import_id=import_id, now=utc_now()
    )
    seconds = time.monotonic() - started
    return {"seconds": seconds, "summary": summary.as_dict()}


FLOOR_TABLES = {"customers": ("customers", "consent_log"), "orders": ("orders", "order_items")}


def database_floor(url: str, kind: str) -> float:
    """Seconds the database alone takes to write what the import wrote: the same rows copied
    from unindexed copies into the emptied tables (every index, constraint and foreign-key check
    the import met), and for orders the customers' totals recomputed by the statement the
    import ends with. No file, no client: what an import takes above this is ours."""
    from sqlalchemy import create_engine, select, text

    from core.customers.totals import refresh_customer_totals
    from core.db import session_scope
    from core.models import Order

    tables = FLOOR_TABLES[kind]
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    postgresql = engine.dialect.name == "postgresql"
    with engine.connect() as connection:
        for table in tables:
            connection.execute(text(f"CREATE TABLE floor_{table} AS SELECT * FROM {table}"))
        if postgresql:  # the tables that point at these are empty in this benchmark
            connection.execute(text(f"TRUNCATE {', '.join(tables)} CASCADE"))
        else:
            for table in reversed(tables):
                connection.execute(text(f"DELETE FROM {table}"))
        if kind == "orders":
            connection.execute(
                text(
                    "UPDATE customers SET order_count = 0, total_spent_cents = 0, "
                    "first_order_at = NULL, last_order_at = NULL"
                )
            )
        if postgresql:  # the emptied rows would otherwise still be in the indexes
            connection.execute(text("VACUUM"))
    started = time.monotonic()
    with session_scope() as session:
        for table in tables:
            session.execute(text(f"INSERT INTO {table} SELECT * FROM floor_{table}"))
        if kind == "orders":
            ids = session.scalars(select(Order.customer_id).distinct()).all()
            refresh_customer_totals(session=session, customer_ids=ids)
    seconds = time.monotonic() - started
    with engine.connect() as connection:
        for table in tables:
            connection.execute(text(f"DROP TABLE floor_{table}"))
    engine.dispose()
    return seconds


def baseline(path: Path) -> float:
    started = time.monotonic()
    pd.read_csv(path, dtype=str, keep_default_na=False)
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, nargs="+", default=[10_000])
    parser.add_argument("--orders", type=int, default=0)
    add_database_arguments(parser)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.customers:
            path = Path(tmp) / f"customers_{n}.csv"
            customers_csv(path, n)
            parse = baseline(path)
            for backend in args.backends:
                with scratch_database(backend, Path(tmp), args.postgres) as url:
                    result, order_result = run(url, "customers", path), None
                    floor = database_floor(url, "customers")
                    if args.orders and n == max(args.customers):
                        orders_path = Path(tmp) / f"orders_{args.orders}.csv"
                        orders_csv(orders_path, args.orders, n)
                        order_result = run(url, "orders", orders_path)
                        order_floor = database_floor(url, "orders")
                if order_result:
                    report(
                        bench="import_orders",
                        backend=backend,
                        rows=args.orders,
                        seconds=round(order_result["seconds"], 2),
                        rows_per_s=round(args.orders / order_result["seconds"]),
                        baseline_read_csv_s=round(baseline(orders_path), 2),
                        ratio=round(order_result["seconds"] / baseline(orders_path), 1),
                        database_floor_s=round(order_floor, 2),
                        ratio_to_floor=round(order_result["seconds"] / order_floor, 1),
                        summary=order_result["summary"],
                    )
                report(
                    bench="import_customers",
                    backend=backend,
                    rows=n,
                    file_mb=round(path.stat().st_size / 1e6, 1),
                    seconds=round(result["seconds"], 2),
                    rows_per_s=round(n / result["seconds"]),
                    baseline_read_csv_s=round(parse, 2),
                    ratio=round(result["seconds"] / parse, 1),
                    database_floor_s=round(floor, 2),
                    ratio_to_floor=round(result["seconds"] / floor, 1),
                    summary=result["summary"],
                )


if __name__ == "__main__":
    main()
