"""Sending speed and exactly-once delivery through the whole real path.

Usage: python bench/send_throughput.py --messages N [--workers 2] [--rate-per-min R]
           [--kill-worker-after K] [--mailgun-url URL] [--backend postgresql|sqlite]

A scratch database with N consented adult customers and a running campaign whose one email step
is due now; the step becomes N outbox rows; real RQ workers (`python -m jobs.worker`) on REDIS_URL
send them to a Mailgun-compatible URL (default: a local fake started here, which counts every
message it accepts by its idempotency key). With --kill-worker-after K, one worker is killed
(SIGKILL) once K messages are out, a new one takes its place, and the dead worker's claims
return to the queue after their lease. Prints one JSON line: messages, sent, seconds, per_min
(from the provider's first to last receipt), duplicates, failed, and the baseline: the rate a
single thread reaches posting to the same URL with nothing else in the way.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.scratch import DEFAULT_POSTGRES, analyze, report, scratch_database  # noqa: E402

BENCH_REDIS = "redis://127.0.0.1:6379/14"
LEASE_SECONDS = 10
SIGNING = {"MAILGUN_API_KEY": "key-test", "MAILGUN_DOMAIN": "mg.example.com"}


def fill(messages: int) -> int:
    """N customers who may get email, one segment of them all, and a running campaign whose one
    email step is due now. Returns the campaign id."""
    import numpy as np
    import pandas as pd

    from core import segments
    from core.db import session_scope, utc_now
    from core.demo import DEMO_STORE_PROFILE
    from core.infra import bulk
    from core.messaging.template_defaults import install_default_templates
    from core.models import Campaign, CampaignStatus, CampaignStep, Customer, SegmentMember
    from core.permissions import SYSTEM
    from core.store_profile import fill_in_profile, get_store_profile

    now = pd.Timestamp.now(tz="UTC")
    for start in range(0, messages, 100_000):
        ids = np.arange(start + 1, min(messages, start + 100_000) + 1)
        frame = pd.DataFrame(
            {
                "id": ids,
                "email": [f"shopper{i}@example.com" for i in ids],
                "first_name": "Dana",
                "last_name": "Reyes",
                "birth_date": pd.Timestamp("1980-05-01"),
                "age_verified": True,
                "address": "",
                "city": "Chicago",
                "state": "IL",
                "zip": "60607",
                "email_opt_in": True,
                "email_opt_in_at": now,
                "email_status": "active",
                "sms_opt_in": False,
                "sms_status": "active",
                "order_count": 0,
                "total_spent_cents": 0,
                "source": "bench",
                "created_at": now,
                "updated_at": now,
            }
        )
        with session_scope() as session:
            bulk.insert_frame(session, Customer.__table__, frame)
    with session_scope() as session:
        fill_in_profile(session=session, fields=DEMO_STORE_PROFILE)
        install_default_templates(session=session, actor=SYSTEM)
        segment = segments.create_static_segment(session=session, actor=SYSTEM, name="Everyone")
        for start in range(0, messages, 100_000):
            session.execute(
                SegmentMember.__table__.insert(),
                [
                    {"segment_id": segment.id, "customer_id": i}
                    for i in range(start + 1, min(messages, start + 100_000) + 1)
                ],
            )
        local = utc_now().astimezone(get_store_profile(session=session).zone)
        campaign = Campaign(
            name="Bench",
            type="promotion",
            status=CampaignStatus.RUNNING,
            segment_ids=[segment.id],
            channels=["email"],
            starts_at=utc_now(),
            ends_at=utc_now() + timedelta(days=1),
        )
        campaign.steps.append(
            CampaignStep(
                position=1,
                day=local.date(),
                local_time="00:00",
                segment_id=segment.id,
                channel="email",
                offer_kind="percent_off",
                offer_value=10,
                offer_description="10% off anything",
                angle="A test of speed",
            )
        )
        session.add(campaign)
        session.flush()
        return campaign.id


def status_counts(campaign_id: int) -> dict[str, int]:
    from core.db import session_scope
    from core.messaging import monitor

    with session_scope(read_only=True) as session:
        return monitor.status_counts(session=session, campaign_id=campaign_id)


def start_worker(env: dict[str, str], n: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "jobs.worker", "--name", f"bench-{os.getpid()}-{n}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def single_thread_rate(url: str, seconds: float = 3.0) -> float:
    """The baseline: one thread posting messages to the provider back to back, per minute."""
    import requests

    session = requests.Session()
    sent, deadline = 0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        session.post(
            f"{url}/v3/mg.example.com/messages",
            auth=("api", SIGNING["MAILGUN_API_KEY"]),
            data={
                "to": "baseline@example.com",
                "v:message_key": f"baseline-{sent}",
                "subject": "x",
                "text": "x",
            },
            timeout=10,
        )
        sent += 1
    return sent / seconds * 60


def run(args: argparse.Namespace, url: str, mailgun_url: str, fake: object | None) -> None:
    from redis import Redis

    from core.db import reset_engines, session_scope, utc_now
    from core.infra import migration_runner
    from core.messaging import outbox
    from jobs import queue, sending, tasks

    env = os.environ | {
        "DATABASE_URL": url,
        "REDIS_URL": args.redis,
        "MAILGUN_BASE_URL": mailgun_url,
        "SEND_RATE_PER_MIN": str(args.rate_per_min),
        "SEND_CLAIM_LEASE_SECONDS": str(LEASE_SECONDS),
        "LOG_LEVEL": "WARNING",
        "SECRET_KEY": secrets.token_urlsafe(48),  # the app and its workers must share one
        **SIGNING,
    }
    os.environ.update(env)
    reset_engines()
    migration_runner.upgrade(url)
    Redis.from_url(args.redis).flushdb()
    campaign_id = fill(args.messages)
    analyze(url)
    started = time.perf_counter()
    with session_scope() as session:
        queued = sum(q.messages for q in outbox.queue_due_steps(session=session, now=utc_now()))
    queue_seconds = time.perf_counter() - started

    workers = [start_worker(env, n) for n in range(args.workers)]
    started = time.perf_counter()
    for _ in range(args.workers):
        queue.enqueue(tasks.send_messages, max_seconds=3600.0)
    killed_at = None
    try:
        while True:
            counts = status_counts(campaign_id)
            waiting = counts.get("queued", 0) + counts.get("sending", 0)
            out = counts.get("sent", 0)
            if args.kill_worker_after and killed_at is None and out >= args.kill_worker_after:
                workers[0].send_signal(signal.SIGKILL)
                workers.append(start_worker(env, len(workers)))
                killed_at = time.perf_counter()
            if killed_at and time.perf_counter() - killed_at > LEASE_SECONDS + 1:
                released = sending.release_stale_claims()
                if released:
                    queue.enqueue(tasks.send_messages, max_seconds=3600.0)
                    killed_at = time.perf_counter()
            if not waiting:
                break
            if all(w.poll() is not None for w in workers):
                raise SystemExit("every worker has stopped; see its output above")
            time.sleep(0.2)
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)
    seconds = time.perf_counter() - started
    counts = status_counts(campaign_id)
    figures: dict[str, object] = {
        "backend": args.backend,
        "workers": args.workers,
        "messages": queued,
        "sent": counts.get("sent", 0),
        "failed": counts.get("failed", 0),
        "seconds": round(seconds, 2),
        "queue_seconds": round(queue_seconds, 2),
        "killed_a_worker": bool(args.kill_worker_after),
    }
    if fake is not None:
        keys = [
            f["v:message_key"][0]
            for f in fake.accepted
            if not f["v:message_key"][0].startswith("baseline")
        ]
        times = fake.times[-len(keys) :] if keys else []
        span = (times[-1] - times[0]) if len(times) > 1 else seconds
        figures |= {
            "provider_received": len(keys),
            "duplicates": len(keys) - len(set(keys)),
            "per_min": round(len(keys) / span * 60) if span else None,
        }
    else:
        figures |= {"duplicates": None, "per_min": round(figures["sent"] / seconds * 60)}
    baseline = single_thread_rate(mailgun_url)
    figures["baseline_single_thread_per_min"] = round(baseline)
    figures["ratio_to_baseline"] = round(figures["per_min"] / baseline, 2) if baseline else None
    if args.rate_per_min < 1_000_000 and figures["per_min"]:
        figures["rate_error"] = round(figures["per_min"] / args.rate_per_min - 1, 4)
    report(**figures)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rate-per-min", type=int, default=1_000_000)
    parser.add_argument("--kill-worker-after", type=int, default=0)
    parser.add_argument("--mailgun-url")
    parser.add_argument("--backend", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    parser.add_argument("--redis", default=os.environ.get("BENCH_REDIS_URL", BENCH_REDIS))
    args = parser.parse_args()
    from tests.fakes import fake_mailgun

    with (
        tempfile.TemporaryDirectory() as folder,
        scratch_database(args.backend, Path(folder), args.postgres) as url,
    ):
        if args.mailgun_url:
            run(args, url, args.mailgun_url, None)
            return
        with fake_mailgun() as fake:
            run(args, url, fake.base_url, fake)


if __name__ == "__main__":
    main()
