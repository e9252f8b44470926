"""Time to first /healthz 200 for the app, against a bare Streamlit script started the same way,
and the demo store load on SQLite (and PostgreSQL when DATABASE_URL_PG is set), against its pure
in-memory generation.

Usage: python bench/startup.py [--runs 3]
Prints one JSON line per figure.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.server import free_port  # noqa: E402


def seconds_to_first_response(args: list[str], url_path: str, env: dict[str, str]) -> float:
    port = free_port()
    started = time.monotonic()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            *args,
            "--server.port",
            str(port),
            "--server.headless",
            "true",
        ],
        cwd=ROOT,
        env=os.environ | env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while True:
            try:
                if requests.get(f"http://127.0.0.1:{port}{url_path}", timeout=1).ok:
                    return time.monotonic() - started
            except requests.RequestException:
                pass
            if process.poll() is not None:
                raise RuntimeError(f"{args} exited early")
            time.sleep(0.05)
    finally:
        process.terminate()
        process.wait(timeout=10)


def bench_startup(runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        bare = Path(tmp) / "bare.py"
        bare.write_text("import streamlit as st\nst.write('hello')\n")
        baseline = [seconds_to_first_response([str(bare)], "/", {}) for _ in range(runs)]
        ours = [
            seconds_to_first_response(
                ["app.py"], "/healthz", {"DATABASE_URL": f"sqlite:///{Path(tmp) / f'b{i}.db'}"}
            )
            for i in range(runs)
        ]
    report(
        "startup_to_first_healthz_200",
        seconds=statistics.median(ours),
        baseline_bare_streamlit_seconds=statistics.median(baseline),
        ratio=statistics.median(ours) / statistics.median(baseline),
        note="fresh SQLite database, migrations included",
    )


def bench_demo(url: str, label: str) -> None:
    os.environ["DATABASE_URL"] = url
    from core import demo
    from core.config import get_settings
    from core.db import reset_engines, session_scope, utc_now
    from core.infra import migration_runner
    from core.permissions import SYSTEM

    reset_engines()
    migration_runner.upgrade(url)
    today = date(2026, 11, 26)
    started = time.monotonic()
    store = demo.generate(
        today=today, customers=get_settings().demo_customers, seed=demo.DEFAULT_SEED, now=utc_now()
    )
    generated = time.monotonic() - started
    started = time.monotonic()
    summary = demo.load_demo(
        unit_of_work=session_scope,
        actor=SYSTEM,
        today=today,
        now=utc_now(),
        customers=get_settings().demo_customers,
    )
    loaded = time.monotonic() - started
    rows = summary.customers + summary.orders + summary.order_items + summary.products
    report(
        f"demo_load_{label}",
        seconds=loaded,
        rows=rows,
        rows_per_s=rows / loaded,
        baseline_generate_in_memory_seconds=generated,
        ratio=loaded / generated,
        orders=len(store.orders),
    )


def report(name: str, **figures: object) -> None:
    print(
        json.dumps(
            {"bench": name}
            | {k: round(v, 3) if isinstance(v, float) else v for k, v in figures.items()}
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    bench_startup(args.runs)
    with tempfile.TemporaryDirectory() as tmp:
        bench_demo(f"sqlite:///{Path(tmp) / 'demo.db'}", "sqlite")
    if pg := os.environ.get("DATABASE_URL_PG"):
        bench_demo(pg, "postgresql")


if __name__ == "__main__":
    main()
