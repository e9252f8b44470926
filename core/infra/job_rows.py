"""Job rows: the durable record of background work that pages poll for progress."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.db import rowcount
from core.errors import NotFound
from core.models import Job, JobStatus


class Progress(Protocol):
    """Hears how far a long operation got: a percentage, and a line for the person watching."""

    def __call__(self, percent: int, message: str = "") -> None: ...


def no_progress(percent: int, message: str = "") -> None:
    """A Progress for callers that do not watch."""


def scaled(progress: Progress, start: int, span: int) -> Progress:
    """Report a part of a longer operation: its 0–100 become `start` to `start + span`."""

    def report(percent: int, message: str = "") -> None:
        progress(start + percent * span // 100, message)

    return report


ERROR_SUMMARY_LIMIT = 2000
"""Characters of an error kept on the job row; the full traceback goes to the logs."""


def create_job(
    *,
    session: Session,
    kind: str,
    args: dict[str, Any] | None = None,
    created_by: int | None = None,
) -> Job:
    job = Job(id=str(uuid.uuid4()), kind=kind, args=args or {}, created_by=created_by)
    session.add(job)
    session.flush()
    return job


def get_job(*, session: Session, job_id: str) -> Job:
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound(f"job {job_id}")
    return job


def start_job(*, session: Session, job_id: str, now: datetime) -> Job:
    job = get_job(session=session, job_id=job_id)
    if job.status == JobStatus.CANCELLED:
        return job  # cancelled before a worker took it: it does not run
    job.status = JobStatus.RUNNING
    job.started_at = now
    job.finished_at = None
    job.error = None
    job.attempts += 1
    return job


def report_progress(
    *,
    session: Session,
    job_id: str,
    progress: int,
    now: datetime,
    message: str = "",
    counts: dict[str, Any] | None = None,
) -> None:
    values: dict[str, Any] = {"progress": max(0, min(100, progress)), "message": message[:200]}
    if counts is not None:
        values["counts"] = counts
    session.execute(update(Job).where(Job.id == job_id).values(**values, updated_at=now))


def cancel_job(*, session: Session, job_id: str, now: datetime) -> bool:
    """Stop a job that has not finished: it is marked cancelled now, and a task that checks
    (`is_cancelled`) throws its work away. Returns whether it was still going."""
    job = session.scalar(select(Job).where(Job.id == job_id).with_for_update())
    if job is None:
        raise NotFound(f"Job {job_id} not found.")
    if JobStatus(job.status).finished:
        return False
    job.status, job.finished_at, job.message = JobStatus.CANCELLED, now, "Cancelled"
    return True


def is_cancelled(*, session: Session, job_id: str) -> bool:
    """Whether someone cancelled the job (the row is locked until the caller's transaction ends,
    so what the task saves next cannot race a cancel)."""
    status = session.scalar(select(Job.status).where(Job.id == job_id).with_for_update())
    return status == JobStatus.CANCELLED


def finish_job(
    *, session: Session, job_id: str, now: datetime, result: dict[str, Any] | None = None
) -> Job:
    job = get_job(session=session, job_id=job_id)
    if job.status == JobStatus.CANCELLED:
        return job  # its result was thrown away
    job.status = JobStatus.SUCCEEDED
    job.progress = 100
    job.result = result or {}
    job.finished_at = now
    return job


def fail_job(*, session: Session, job_id: str, error: str, now: datetime) -> Job:
    job = get_job(session=session, job_id=job_id)
    job.status = JobStatus.FAILED
    job.error = error[:ERROR_SUMMARY_LIMIT]
    job.finished_at = now
    return job


def recent_jobs(*, session: Session, kind: str | None = None, limit: int = 50) -> list[Job]:
    query = select(Job).order_by(Job.created_at.desc()).limit(limit)
    if kind:
        query = query.where(Job.kind == kind)
    return list(session.scalars(query))


def is_active(
    *, session: Session, kind: str, now: datetime, stale_after: timedelta = timedelta(minutes=10)
) -> bool:
    """Whether a job of `kind` is waiting or running (so the clock does not pile up another).
    A row untouched for `stale_after` belongs to a worker that was killed: it does not count."""
    live = Job.updated_at >= now - stale_after
    return (
        session.scalar(
            select(Job.id)
            .where(Job.kind == kind, Job.status.in_([JobStatus.QUEUED, JobStatus.RUNNING]), live)
            .limit(1)
        )
        is not None
    )


def fail_interrupted(
    *, session: Session, now: datetime, older_than: timedelta = timedelta(0)
) -> int:
    """Mark running or queued jobs as failed after a restart of the in-process runner.

    Without a queue, a job's thread dies with the process; its row would say "running" forever.
    """
    cutoff = now - older_than
    result = session.execute(
        update(Job)
        .where(Job.status.in_([JobStatus.RUNNING, JobStatus.QUEUED]), Job.updated_at <= cutoff)
        .values(
            status=JobStatus.FAILED,
            error="Interrupted by a restart; run it again.",
            finished_at=now,
        )
    )
    return rowcount(result)
