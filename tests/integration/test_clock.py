from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from core import maintenance
from core.db import session_scope
from core.models import JobStatus
from jobs import clock, queue, tasks

CHICAGO = ZoneInfo("America/Chicago")


@pytest.mark.both_databases
def test_the_nightly_run_is_claimed_once_a_day(database: str) -> None:
    before_three = datetime(2026, 11, 26, 8, 59, tzinfo=UTC)  # 02:59 in Chicago
    after_three = datetime(2026, 11, 26, 9, 1, tzinfo=UTC)
    with session_scope() as session:
        assert (
            maintenance.claim_nightly_run(session=session, now=before_three, zone=CHICAGO) is None
        )
        claimed = maintenance.claim_nightly_run(session=session, now=after_three, zone=CHICAGO)
    assert claimed is not None and claimed.isoformat() == "2026-11-26"
    with session_scope() as session:
        assert maintenance.claim_nightly_run(session=session, now=after_three, zone=CHICAGO) is None
        next_night = datetime(2026, 11, 27, 9, 1, tzinfo=UTC)
        assert maintenance.claim_nightly_run(session=session, now=next_night, zone=CHICAGO)


def test_a_tick_starts_the_nightly_refresh(database: str) -> None:
    started = clock.tick()  # any time after 03:00 store time today counts as due
    again = clock.tick()
    jobs = [queue.wait_for(job_id, timeout=60) for job_id in started + again]
    nightly = [job for job in jobs if job.kind == tasks.nightly.kind]
    assert len(nightly) <= 1
    for job in nightly:
        # An empty store has nothing to score: the job fails with that reason, nothing else.
        assert job.status == JobStatus.FAILED and "no orders" in job.error
