"""Runs one job by id: marks it running, calls its task with a progress reporter, records the end.

The same function runs in an RQ worker and in the in-process thread, so both paths behave alike.
"""

from __future__ import annotations

import logging
import time
import traceback
from typing import Any

from sqlalchemy.orm import Session

from core import auth
from core.db import in_unit_of_work, session_scope, utc_now
from core.errors import DomainError, PermissionDenied
from core.infra import job_rows, logs
from core.models import JobStatus, User
from core.permissions import SYSTEM, Actor
from jobs.tasks import TASKS

log = logging.getLogger(__name__)

PROGRESS_INTERVAL_SECONDS = 0.5
"""At most this often a job writes its progress, so watching stays cheap."""


class ProgressReporter:
    """Writes a job's progress in its own short transactions, throttled."""

    def __init__(self, job_id: str) -> None:
        self.job_id = job_id
        self._last = 0.0

    def __call__(
        self, percent: int, message: str = "", counts: dict[str, Any] | None = None
    ) -> None:
        now = time.monotonic()
        if percent < 100 and now - self._last < PROGRESS_INTERVAL_SECONDS:
            return
        if in_unit_of_work():
            return  # called inside the task's own transaction: the next report will land
        self._last = now
        with session_scope() as session:
            job_rows.report_progress(
                session=session,
                job_id=self.job_id,
                progress=percent,
                now=utc_now(),
                message=message,
                counts=counts,
            )


def perform(job_id: str) -> dict[str, Any]:
    """Run the job `job_id`. Raises what the task raised, after recording the failure."""
    with logs.bound(logs.job_id, job_id):
        with session_scope() as session:
            job = job_rows.start_job(session=session, job_id=job_id, now=utc_now())
            kind, args, created_by = job.kind, dict(job.args), job.created_by
            if job.status == JobStatus.CANCELLED:
                log.info("job cancelled before it started", extra={"kind": kind})
                return {}
        if TASKS[kind].takes_job_id:
            args["job_id"] = job_id
        log.info("job started", extra={"kind": kind})
        started = time.monotonic()
        try:
            with session_scope() as session:
                actor = _actor(session, created_by)
            result = TASKS[kind](actor=actor, progress=ProgressReporter(job_id), **args)
        except Exception as exc:
            message = str(exc) if isinstance(exc, DomainError) else f"{type(exc).__name__}: {exc}"
            with session_scope() as session:
                job_rows.fail_job(session=session, job_id=job_id, error=message, now=utc_now())
            log.error(
                "job failed",
                extra={"kind": kind, "error": message, "trace": traceback.format_exc()},
            )
            raise
        with session_scope() as session:
            job_rows.finish_job(session=session, job_id=job_id, result=result, now=utc_now())
        log.info(
            "job finished", extra={"kind": kind, "seconds": round(time.monotonic() - started, 3)}
        )
        return result


def _actor(session: Session, user_id: int | None) -> Actor:
    """Jobs run with the current rights of whoever started them; system jobs as the system."""
    if user_id is None:
        return SYSTEM
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        raise PermissionDenied("The user who started this job is no longer active.")
    return auth.actor_for(user)
