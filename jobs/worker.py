"""`python -m jobs.worker`: an RQ worker (with the scheduler) for the jobs this app enqueues."""

from __future__ import annotations

import argparse
import logging
import sys
import threading

from rq import SimpleWorker

from core.config import get_settings
from core.infra import keys, migration_runner
from core.infra.logs import configure_logging
from jobs import clock
from jobs.connections import redis_connection
from jobs.queue import rq_queue

log = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jobs.worker", description=__doc__)
    parser.add_argument("--burst", action="store_true", help="exit when the queue is empty")
    parser.add_argument("--name", help="worker name (default: host and pid)")
    args = parser.parse_args(argv)

    settings = get_settings()
    configure_logging(settings.log_level)
    if not settings.redis_url:
        print(
            "REDIS_URL is not set: without Redis, jobs run inside the app process.", file=sys.stderr
        )
        return 2
    try:
        keys.master_key()
    except keys.InsecureSecret as exc:
        print(f"refusing to start: {exc}", file=sys.stderr)
        return 2
    migration_runner.ensure_current()
    connection = redis_connection(settings.redis_url)
    # SimpleWorker runs jobs in this process: no fork per job, so a job costs milliseconds, and
    # the database pool is reused across jobs.
    queue = rq_queue(settings.redis_url)
    worker = SimpleWorker([queue], connection=connection, name=args.name)
    log.info("worker starting", extra={"queue": queue.name, "burst": args.burst})
    stop = threading.Event()
    if not args.burst:
        clock.start(stop)
    try:
        worker.work(burst=args.burst, with_scheduler=True, logging_level=settings.log_level)
    finally:
        stop.set()
    return 0


if __name__ == "__main__":
    sys.exit(main())
