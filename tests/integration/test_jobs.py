"""Jobs run in a background thread without Redis, and through real Redis and a real RQ worker."""

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core import auth
from core.db import reset_engines, session_scope, utc_now
from core.infra import job_rows
from core.models import Customer, JobStatus
from core.permissions import SYSTEM, Role
from jobs import queue, tasks
from jobs.runner import ProgressReporter
from tests.conftest import forget_redis_keys

ROOT = Path(__file__).resolve().parents[2]


def make_user(role: Role, active: bool = True) -> int:
    with session_scope() as session:
        user, _ = auth.create_user(
            session=session,
            actor=SYSTEM,
            email=f"{role}@example.com",
            name=str(role),
            role=role,
            password="long enough password",
        )
        user.is_active = active
        return user.id


@pytest.mark.both_databases
def test_in_process_job_runs_in_a_thread_and_records_its_end(database: str) -> None:
    marketer = make_user(Role.MARKETER)
    job_id = queue.enqueue(tasks.load_demo, created_by=marketer, customers=40, seed=3)
    job = queue.wait_for(job_id, timeout=60)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.kind == "demo.load" and job.args == {"customers": 40, "seed": 3}
    assert job.progress == 100 and job.message == "Demo store ready"
    assert job.result["customers"] == 40 and job.result["created"] is True
    assert job.started_at <= job.finished_at and job.attempts == 1
    with session_scope() as session:
        assert session.scalar(select(func.count(Customer.id))) == 40


@pytest.mark.parametrize(("role", "active"), [(Role.VIEWER, True), (Role.ADMIN, False)])
def test_a_job_runs_with_its_owners_current_rights(database: str, role: Role, active: bool) -> None:
    owner = make_user(role, active=active)
    job = queue.wait_for(queue.enqueue(tasks.load_demo, created_by=owner, customers=5), timeout=30)
    assert job.status == JobStatus.FAILED
    assert "not allowed" in job.error or "no longer active" in job.error
    with session_scope() as session:
        assert session.scalar(select(func.count(Customer.id))) == 0


@pytest.mark.both_databases
def test_progress_is_throttled_but_the_end_always_lands(database: str) -> None:
    with session_scope() as session:
        job_id = job_rows.create_job(session=session, kind="demo.load").id
    report = ProgressReporter(job_id)
    report(10, "first")
    report(20, "too soon, skipped")
    with session_scope() as session:
        assert job_rows.get_job(session=session, job_id=job_id).message == "first"
    report(100, "done", counts={"rows": 3})
    with session_scope() as session:
        job = job_rows.get_job(session=session, job_id=job_id)
        assert (job.progress, job.message, job.counts) == (100, "done", {"rows": 3})


@pytest.mark.both_databases
def test_restart_marks_orphaned_jobs_failed(database: str) -> None:
    with session_scope() as session:
        running = job_rows.create_job(session=session, kind="demo.load")
        job_rows.start_job(session=session, job_id=running.id, now=utc_now())
        finished = job_rows.create_job(session=session, kind="demo.load")
        job_rows.finish_job(session=session, job_id=finished.id, now=utc_now())
    with session_scope() as session:
        assert job_rows.fail_interrupted(session=session, now=utc_now()) == 1
    with session_scope() as session:
        assert job_rows.get_job(session=session, job_id=running.id).status == JobStatus.FAILED
        assert job_rows.get_job(session=session, job_id=finished.id).status == JobStatus.SUCCEEDED


@pytest.fixture
def redis_queue(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    forget_redis_keys(redis_url)
    monkeypatch.setenv("REDIS_URL", redis_url)
    reset_engines()
    yield redis_url
    forget_redis_keys(redis_url)


@pytest.mark.slow
@pytest.mark.postgresql_only
def test_job_through_real_redis_and_a_real_worker_process(database: str, redis_queue: str) -> None:
    marketer = make_user(Role.MARKETER)
    job_id = queue.enqueue(tasks.load_demo, created_by=marketer, customers=60, seed=5)
    with session_scope() as session:
        assert job_rows.get_job(session=session, job_id=job_id).status == JobStatus.QUEUED
    assert queue.rq_queue(redis_queue).count == 1

    env = os.environ | {"DATABASE_URL": database, "REDIS_URL": redis_queue, "LOG_LEVEL": "INFO"}
    worker = subprocess.run(
        [sys.executable, "-m", "jobs.worker", "--burst", "--name", f"test-{os.getpid()}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert worker.returncode == 0, worker.stderr[-2000:]
    job = queue.wait_for(job_id, timeout=5)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.result["customers"] == 60
    assert '"job_id": "' + job_id in worker.stderr, "worker logs carry the job id"


def test_worker_refuses_to_start_without_redis(database: str) -> None:
    from jobs.worker import main

    assert main(["--burst"]) == 2


@pytest.mark.both_databases
def test_progress_inside_a_transaction_waits_for_the_next_report(database: str) -> None:
    """On SQLite a report written from inside the task's own transaction would deadlock."""
    with session_scope() as session:
        job_id = job_rows.create_job(session=session, kind="demo.load").id
    report = ProgressReporter(job_id)
    with session_scope() as session:
        job_rows.get_job(session=session, job_id=job_id)
        report(40, "inside")
    report(100, "after")
    with session_scope() as session:
        assert job_rows.get_job(session=session, job_id=job_id).message == "after"


@pytest.mark.both_databases
def test_a_job_redis_will_not_take_fails_at_once_instead_of_waiting_forever(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from core.errors import Unavailable

    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:9/0")  # nothing listens there
    reset_engines()
    with pytest.raises(Unavailable, match="The job queue \\(Redis\\) did not answer"):
        queue.enqueue(tasks.nightly)
    with session_scope(read_only=True) as session:
        (job,) = job_rows.recent_jobs(session=session)
    assert job.status == JobStatus.FAILED and "did not answer" in (job.error or "")
