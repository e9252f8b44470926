"""A minute clock that starts recurring work. It runs in the app process when there is no Redis
(jobs run there too) and in each RQ worker otherwise; claims in the database keep it once."""

from __future__ import annotations

import logging
import threading
from datetime import datetime

from sqlalchemy.orm import Session

from core import abtests, attribution, maintenance
from core.analytics import weekly
from core.db import session_scope, utc_now
from core.infra import job_rows
from core.messaging import simulation
from core.permissions import SYSTEM
from core.store_profile import get_store_profile
from jobs import flows, held_optouts, queue, sending, tasks

log = logging.getLogger(__name__)

TICK_SECONDS = 60


def tick(now: datetime | None = None) -> list[str]:
    """Enqueue whatever is due at `now` (default: the clock's time). Returns the job ids
    started."""
    now = now or utc_now()
    started = []
    held_optouts.apply_held()
    with session_scope() as session:
        zone = get_store_profile(session=session).zone
        night = maintenance.claim_nightly_run(session=session, now=now, zone=zone)
        week = weekly.claim_weekly_report(session=session, now=now, zone=zone)
        busy = job_rows.is_active(session=session, kind=tasks.refresh_dashboard.kind, now=now)
        behind = not busy and attribution.claim_refresh(session=session, now=now)
        tests_due = _tests_to_decide(session, now)
        simulation.apply_due_engagement(session=session, now=now)
    if night is not None:
        started.append(queue.enqueue(tasks.nightly))
        log.info("nightly refresh enqueued", extra={"day": night.isoformat()})
    if behind:
        started.append(queue.enqueue(tasks.refresh_dashboard))
    if tests_due:
        started.append(queue.enqueue(tasks.decide_tests))
    if week is not None:
        started.append(
            queue.enqueue(
                tasks.weekly_report, first=week.first.isoformat(), last=week.last.isoformat()
            )
        )
        log.info("weekly report enqueued", extra={"week": week.first.isoformat()})
    return started + flows.start_due_campaigns(now) + send_due_messages(now)


def _tests_to_decide(session: Session, now: datetime) -> bool:
    """Whether an A/B test is at its horizon or has a winner to send to the rest of its
    audience, and no job deciding tests is at work."""
    if job_rows.is_active(session=session, kind=tasks.decide_tests.kind, now=now):
        return False
    return bool(
        abtests.waiting_rollouts(session=session)
        or abtests.waiting_for_judgement(session=session, now=now)
    )


def send_due_messages(now: datetime | None = None) -> list[str]:
    """Write the messages of steps coming due, put back those of dead workers, and start a
    send job when messages are waiting and none is running. Returns the job id started."""
    now = now or utc_now()
    sending.release_stale_claims(now)
    return flows.write_due_sends(actor=SYSTEM, now=now)


def start(stop: threading.Event) -> threading.Thread:
    """Tick every minute in a daemon thread until `stop` is set."""

    def loop() -> None:
        while not stop.wait(TICK_SECONDS):
            try:
                tick()
            except Exception:  # a bad tick must not stop the clock
                log.exception("clock tick failed")

    thread = threading.Thread(target=loop, name="clock", daemon=True)
    thread.start()
    return thread
