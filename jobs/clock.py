"""A minute clock that starts recurring work. It runs in the app process when there is no Redis
(jobs run there too) and in each RQ worker otherwise; claims in the database keep it once."""

from __future__ import annotations

import logging
import threading

from core import campaigns, maintenance
from core import jobs as job_rows
from core.db import session_scope, utc_now
from core.messaging import outbox
from core.permissions import SYSTEM
from core.store import get_store_profile
from jobs import queue, sending, tasks

log = logging.getLogger(__name__)

TICK_SECONDS = 60


def tick() -> list[str]:
    """Enqueue whatever is due now. Returns the job ids started."""
    started = []
    with session_scope() as session:
        zone = get_store_profile(session=session).zone
        night = maintenance.claim_nightly_run(session=session, now=utc_now(), zone=zone)
    if night is not None:
        started.append(queue.enqueue(tasks.nightly))
        log.info("nightly refresh enqueued", extra={"day": night.isoformat()})
    return started + start_campaigns() + send_due_messages()


def start_campaigns() -> list[str]:
    """Start the scheduled campaigns whose time has come, and complete the finished ones.

    Called every tick, and by RQ's scheduler at a campaign's exact start when Redis is
    configured (see `jobs.queue.run_at`). Each started campaign gets its actions in a job.
    Returns those jobs' ids.
    """
    with session_scope() as session:
        started = campaigns.start_due_campaigns(session=session, actor=SYSTEM)
        finished = campaigns.complete_finished_campaigns(session=session, actor=SYSTEM)
    for campaign_id in started:
        log.info("campaign started", extra={"campaign_id": campaign_id})
    if finished:
        log.info("campaigns completed", extra={"campaign_ids": finished})
    return [queue.enqueue(tasks.generate_actions, campaign_id=i) for i in started]


def send_due_messages() -> list[str]:
    """Write the messages of steps coming due, put back those of dead workers, and start a
    send job when messages are waiting and none is running. Returns the job id started."""
    sending.release_stale_claims()
    with session_scope() as session:
        outbox.queue_due_steps(session=session)
        due = outbox.count_due(session=session)
        busy = job_rows.is_active(session=session, kind=tasks.send_messages.kind)
    return [queue.enqueue(tasks.send_messages)] if due and not busy else []


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
