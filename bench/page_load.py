"""Page load in a real browser: every sidebar page of the demo store, from the address bar to
settled (the script has finished, charts drawn, tables filled).

Usage: python bench/page_load.py [--customers 5000] [--rounds 3]
Builds the demo store in a scratch SQLite file, serves it, signs in with chromium and opens each
page `rounds` times: the first visit (cold: nothing cached yet) and the median of the others
(warm). The baseline, measured in the same run, is the simplest page: My account.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.e2e.conftest import ARGS, CHROMIUM, drawn, new_store, signed_in  # noqa: E402
from tests.server import running_app  # noqa: E402

TARGET_MS = 1500
BASELINE = "account"


def demo_store(path: Path, customers: int) -> str:
    from core import demo
    from core.db import session_scope, utc_now
    from core.permissions import SYSTEM

    with new_store(path) as url:
        demo.load_demo_store(
            unit_of_work=session_scope, actor=SYSTEM, customers=customers, now=utc_now()
        )
    return url


def jobs_done(url: str, timeout: float = 120) -> None:
    """Wait for the jobs a fresh server starts (the nightly rescoring it missed, the dashboard's
    pre-aggregates): pages are timed on a store at rest, as a marketer meets it after start-up."""
    import os

    from sqlalchemy import func, select

    from core.db import reset_engines, session_scope
    from core.models import Job, JobStatus

    os.environ["DATABASE_URL"] = url
    reset_engines()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(1)  # a job the start-up queues may not have its row yet
        with session_scope(read_only=True) as session:
            busy = session.scalar(
                select(func.count(Job.id)).where(
                    Job.status.in_([JobStatus.QUEUED, JobStatus.RUNNING])
                )
            )
        if not busy:
            return
    raise SystemExit(f"background jobs still busy after {timeout:.0f} s")


def settled_ms(page: object, url: str) -> float:
    started = time.perf_counter()
    page.goto(url)  # type: ignore[attr-defined]
    page.wait_for_timeout(100)  # type: ignore[attr-defined]  # the run starts after the load
    drawn(page, 60_000)
    page.wait_for_function(  # type: ignore[attr-defined]
        "() => !document.querySelector('[data-testid=stSkeleton]')", timeout=60_000
    )
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    from ui.navigation import PAGES

    folder = Path(tempfile.mkdtemp())
    started = time.perf_counter()
    url = demo_store(folder / "bench.db", args.customers)
    built = time.perf_counter() - started
    print(f"demo store of {args.customers:,} customers built in {built:.1f} s")
    paths = ["" if spec.default else spec.url_path for spec in PAGES if not spec.hidden]
    with running_app({"DATABASE_URL": url}) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = signed_in(browser, base)
        drawn(page, 60_000)  # the sign-in's own Home run finished: not counted against a page
        jobs_done(url)
        times = {
            path: [settled_ms(page, f"{base}/{path}") for _ in range(args.rounds)] for path in paths
        }
        browser.close()
    baseline = statistics.median(times[BASELINE][1:])
    print(f"{'page':<14} {'cold ms':>8} {'warm ms':>8} {'× baseline':>11}")
    for path, measured in times.items():
        warm = statistics.median(measured[1:])
        flag = "" if max(measured) < TARGET_MS else f"  over {TARGET_MS} ms"
        print(f"{path or 'home':<14} {measured[0]:8.0f} {warm:8.0f} {warm / baseline:11.2f}{flag}")
    print(f"baseline: {BASELINE}, warm {baseline:.0f} ms; target: every page < {TARGET_MS} ms")


if __name__ == "__main__":
    main()
