"""A minute clock that starts recurring work. It runs in the app process when there is no Redis
(jobs run there too) and in each RQ worker otherwise; claims in the database keep it once."""

from __future__ import annotations

import logging
import threading

from core import maintenance
from core.db import session_scope, utc_now
from core.store import get_store_profile
from jobs import queue, tasks

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
    return started


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
