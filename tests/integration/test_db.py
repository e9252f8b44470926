"""The column types every model uses, on both databases: what the table holds and what Python
gets back."""

import stat
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session

from core.db import engine_for
from core.models import Job, JobStatus

CHICAGO_EVENING = datetime(2026, 11, 26, 18, 30, tzinfo=timezone(timedelta(hours=-6)))


@pytest.mark.both_databases
def test_statuses_are_plain_text_in_the_table_and_enum_members_in_python(
    session: Session,
) -> None:
    session.add(Job(id="job-1", kind="import", status="running"))
    session.flush()
    stored = session.execute(text("SELECT status FROM jobs WHERE id = 'job-1'")).scalar_one()
    assert stored == "running" and type(stored) is str
    session.expire_all()
    job = session.get(Job, "job-1")
    assert job is not None and job.status is JobStatus.RUNNING
    assert session.scalars(select(Job.id).where(Job.status == "running")).all() == ["job-1"]

    job.status = "finito"  # type: ignore[assignment]
    with pytest.raises(StatementError, match="'finito' is not a valid JobStatus"):
        session.flush()
    session.rollback()


@pytest.mark.both_databases
def test_times_go_in_with_any_zone_and_come_back_in_utc(session: Session) -> None:
    session.add(Job(id="job-2", kind="import", created_at=CHICAGO_EVENING))
    session.flush()
    session.expire_all()
    job = session.get(Job, "job-2")
    assert job is not None
    assert job.created_at == datetime(2026, 11, 27, 0, 30, tzinfo=UTC)
    assert job.created_at.tzinfo is UTC
    later = select(Job.id).where(Job.created_at > datetime(2026, 11, 27, 0, 29, tzinfo=UTC))
    assert session.scalars(later).all() == ["job-2"]

    job.finished_at = datetime(2026, 11, 27, 1, 0)  # no zone: a bug, refused
    with pytest.raises(StatementError, match="naive datetime"):
        session.flush()
    session.rollback()


def test_the_sqlite_file_is_private(tmp_path: Path) -> None:
    """It holds customers' personal data: owner-only when made, and tightened when an
    earlier version left it readable by all."""
    fresh, loose = tmp_path / "new" / "fresh.db", tmp_path / "loose.db"
    loose.touch(mode=0o644)
    loose.chmod(0o644)
    for path in (fresh, loose):
        with engine_for(f"sqlite:///{path}").connect() as connection:
            connection.execute(text("SELECT 1"))
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE(fresh.parent.stat().st_mode) == 0o700
