"""Enqueue work: to RQ when REDIS_URL is set, else to a background thread in this process.

Either way the job first gets a row in the jobs table, and the queue carries only its id.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from redis.exceptions import RedisError
from rq import Queue

from core.config import get_settings
from core.db import session_scope, utc_now
from core.errors import Unavailable
from core.infra import job_rows
from core.models import Job, JobStatus
from jobs.connections import redis_connection
from jobs.runner import perform
from jobs.tasks import Task

log = logging.getLogger(__name__)

JOB_TIMEOUT_SECONDS = 3 * 3600
"""A million-row import takes about a minute; three hours means something is stuck."""
RESULT_TTL_SECONDS = 24 * 3600


def rq_queue(url: str) -> Queue:
    """This install's queue: named by REDIS_NAMESPACE."""
    return Queue(get_settings().redis_namespace, connection=redis_connection(url))


def enqueue(task: Task, *, created_by: int | None = None, **args: Any) -> str:
    """Record a job for `task` with keyword `args` (JSON-serialisable) and start it.

    Returns:
        The job id, for polling with `core.infra.job_rows.get_job`.

    Raises:
        Unavailable: Redis did not take the job; its row is marked failed with the reason, so
            no job waits forever as "queued".
    """
    with session_scope() as session:
        job = job_rows.create_job(
            session=session,
            kind=task.kind,
            args=args,
            created_by=created_by,
        )
        job_id = job.id
    try:
        dispatch(job_id)
    except (RedisError, OSError) as exc:
        reason = f"The job queue (Redis) did not answer, so nothing was started: {exc}"
        with session_scope() as session:
            job_rows.fail_job(session=session, job_id=job_id, error=reason, now=utc_now())
        log.error("job not enqueued", extra={"job": job_id, "kind": task.kind})
        raise Unavailable(reason) from exc
    return job_id


def dispatch(job_id: str) -> None:
    """Hand an existing job row to the queue (also used to run a failed job again)."""
    redis_url = get_settings().redis_url
    if redis_url:
        rq_queue(redis_url).enqueue(
            perform,
            job_id,
            job_id=job_id,
            job_timeout=JOB_TIMEOUT_SECONDS,
            result_ttl=RESULT_TTL_SECONDS,
        )
        log.info("job enqueued", extra={"job": job_id})
        return
    threading.Thread(
        target=_perform_quietly, args=(job_id,), name=f"job-{job_id[:8]}", daemon=True
    ).start()


def run_at(moment: datetime, function: Callable[[], object]) -> None:
    """Call `function` (a module-level function, no arguments) at `moment` through RQ's
    scheduler when Redis is configured. Without Redis the in-process clock, which ticks every
    minute, does the same work; nothing is needed here."""
    redis_url = get_settings().redis_url
    if redis_url:
        rq_queue(redis_url).enqueue_at(moment, function, result_ttl=RESULT_TTL_SECONDS)
        log.info("call scheduled", extra={"call": function.__name__, "at": moment.isoformat()})


def _perform_quietly(job_id: str) -> None:
    # The failure is already on the job row and in the log; a thread has no one to raise to.
    with contextlib.suppress(Exception):
        perform(job_id)


def wait_for(job_id: str, timeout: float = 300.0, poll: float = 0.2) -> Job:
    """Block until the job finishes (CLI and tests). Raises TimeoutError."""
    deadline = time.monotonic() + timeout
    while True:
        with session_scope() as session:
            job = job_rows.get_job(session=session, job_id=job_id)
            if JobStatus(job.status).finished:
                return job
        if time.monotonic() > deadline:
            raise TimeoutError(f"job {job_id} still {job.status} after {timeout:.0f}s")
        time.sleep(poll)
