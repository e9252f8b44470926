"""The weekly report: due once a week from Monday 08:00 store time (caught up later in the week
if the clock was down), sent to the chosen managers through the store's email provider, and
chosen on the command line or the Store page with a clear word for a bad address."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import pytest

from core.analytics import Period, weekly
from core.cli import main
from core.config import get_settings
from core.db import session_scope
from core.errors import PermissionDenied, ValidationError
from core.models import Event
from core.permissions import SYSTEM, Actor, Role
from jobs import clock, queue
from tests.integration.test_dashboard import CHICAGO, build_store

MONDAY_0759 = datetime(2026, 11, 30, 13, 59, tzinfo=UTC)  # 07:59 in Chicago
MONDAY_0800 = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)


def choose(*addresses: str) -> None:
    with session_scope() as session:
        weekly.save_weekly_settings(
            session=session, actor=SYSTEM, settings=weekly.recipients_from(list(addresses))
        )


def claim(now: datetime) -> Period | None:
    with session_scope() as session:
        return weekly.claim_weekly_report(session=session, now=now, zone=CHICAGO)


@pytest.mark.both_databases
def test_the_report_is_due_once_a_week_from_monday_morning(database: str) -> None:
    assert claim(MONDAY_0800) is None, "nobody chosen: nothing to send"
    choose("boss@example.com")
    assert claim(MONDAY_0759) is None
    assert claim(MONDAY_0800) == Period(date(2026, 11, 23), date(2026, 11, 29))
    assert claim(MONDAY_0800) is None
    assert claim(datetime(2026, 12, 3, 18, tzinfo=UTC)) is None, "claimed for this week"
    # A clock that was down all Monday catches up on Tuesday.
    tuesday = datetime(2026, 12, 8, 18, tzinfo=UTC)
    assert claim(tuesday) == Period(date(2026, 11, 30), date(2026, 12, 6))


def test_recipients_are_checked_and_need_the_right_role(database: str) -> None:
    with pytest.raises(ValidationError, match=r"Recipient 2 \('boss at shop'\) is not an email"):
        weekly.recipients_from(["a@example.com", "boss at shop"])
    assert weekly.recipients_from([" a@example.com ", ""]).recipients == ["a@example.com"]
    with session_scope() as session, pytest.raises(PermissionDenied):
        weekly.save_weekly_settings(
            session=session,
            actor=Actor(user_id=None, email="v@example.com", role=Role.MARKETER),
            settings=weekly.WeeklyReportSettings(),
        )


def test_the_report_reaches_the_managers_through_mailgun(
    database: str, providers: tuple[Any, Any]
) -> None:
    mailgun, _ = providers
    build_store()
    choose("boss@example.com", "owner@example.com")
    mailgun.refuse["owner@example.com"] = (400, {"message": "'to' parameter is not valid"})
    with session_scope() as session:
        sent = weekly.send_weekly_report(
            session=session,
            period=Period(date(2026, 11, 16), date(2026, 11, 22)),
            now=MONDAY_0800,
            settings=get_settings(),
        )
    assert sent["sent"] == 1 and sent["provider"] == "mailgun"
    assert sent["failed"] == ["owner@example.com: 'to' parameter is not valid"]
    (email,) = mailgun.accepted
    assert email["to"] == ["boss@example.com"]
    assert "Nov 16 – Nov 22, 2026" in email["subject"][0]
    text = email["text"][0]
    # Nov 16–22: ben's $20 and eve's $999; the week before, cat's $40, ann's $50, ben's $70.
    assert "Revenue: $1,019 (+536.9% vs the week before)" in text
    assert "Attributed revenue" not in text and text.count("No campaign started") == 1
    assert "https://shop.example.com/analytics" in text and "/analytics'>" in email["html"][0]
    with session_scope(read_only=True) as session:
        recorded = session.query(Event).filter_by(type="report.weekly_sent").one()
    assert recorded.data["sent"] == 1


def test_a_tick_on_monday_morning_sends_it(database: str) -> None:
    choose("boss@example.com")
    started = clock.tick(MONDAY_0800)
    jobs = [queue.wait_for(job_id, timeout=60) for job_id in started]
    (weekly_job,) = [j for j in jobs if j.kind == "reports.weekly"]
    assert weekly_job.result == {
        "week": "2026-11-23",
        "sent": 1,
        "failed": [],
        "provider": "sandbox",
    }
    again = [queue.wait_for(job_id, timeout=60) for job_id in clock.tick(MONDAY_0800)]
    assert not [j for j in again if j.kind == "reports.weekly"], "once a week"


def test_the_command_line_chooses_and_sends(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["weekly-report", "--to", "not-an-email"]) == 2
    assert "Recipient 1 ('not-an-email') is not an email address" in capsys.readouterr().err
    assert main(["weekly-report", "--to", "boss@example.com", "--send", "--json"]) == 0
    said = json.loads(capsys.readouterr().out)
    assert said["recipients"] == ["boss@example.com"]
    assert said["sent"]["sent"] == 1 and said["sent"]["provider"] == "sandbox"
    assert main(["weekly-report", "--to"]) == 0
    assert json.loads(capsys.readouterr().out)["recipients"] == []
