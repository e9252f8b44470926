"""The records an audit asks for, on both databases: the consent report, and the suppression
list exported and imported."""

import csv
import io
from datetime import date, timedelta

import pytest
from sqlalchemy import select, update

from core import customers
from core.compliance import consent
from core.db import session_scope
from core.errors import PermissionDenied
from core.messaging import suppressions
from core.models import (
    AuditEntry,
    Channel,
    ConsentRecord,
    ContactStatus,
    Customer,
    Suppression,
    SuppressionReason,
)
from core.permissions import SYSTEM, Actor, Role
from tests.moments import NOW

VIEWER = Actor(user_id=None, email="v@example.com", role=Role.VIEWER)
MARKETER = Actor(user_id=None, email="m@example.com", role=Role.MARKETER)


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.both_databases
def test_the_consent_report_holds_each_decision_with_its_proof(database: str) -> None:
    with session_scope() as session:
        ana = customers.create_customer(
            session=session,
            actor=SYSTEM,
            now=NOW - timedelta(days=2),
            email="ana@example.com",
            phone="+13125550101",
            birth_date=date(1980, 1, 2),
            sms_opt_in=True,
        )
        session.add(
            ConsentRecord(
                customer_id=ana.id,
                channel=Channel.SMS,
                granted=False,
                address="+13125550101",
                source="sms keyword",
                recorded_at=NOW,
                details={"keyword": "STOP", "text": "=cmd|' /C calc'!A0"},
            )
        )
    with pytest.raises(PermissionDenied):
        consent.export_log(unit_of_work=session_scope, actor=VIEWER, out=io.StringIO())
    out = io.StringIO()
    count = consent.export_log(unit_of_work=session_scope, actor=MARKETER, out=out)
    report = rows(out.getvalue())
    assert count == len(report) == 2
    assert [(r["channel"], r["decision"], r["source"]) for r in report] == [
        ("sms", "opt-in", "manual"),
        ("sms", "opt-out", "sms keyword"),
    ]
    assert '"keyword": "STOP"' in report[1]["details"]
    out = io.StringIO()
    assert (
        consent.export_log(unit_of_work=session_scope, actor=MARKETER, out=out, search="#999") == 0
    )
    with session_scope(read_only=True) as session:
        found, total = consent.search_log(session=session, search="5550101")
        assert total == 2 and found[0].source == "sms keyword", "newest first"
        exported = session.scalars(
            select(AuditEntry.changes).where(AuditEntry.action == "consent_log.exported")
        ).all()
        assert [e["rows"] for e in exported] == [2, 0]


@pytest.mark.both_databases
def test_a_list_is_imported_keeping_the_good_lines_and_naming_the_bad(database: str) -> None:
    with session_scope() as session:
        customers.create_customer(
            session=session,
            actor=SYSTEM,
            now=NOW,
            email="bob@example.com",
            birth_date=date(1980, 1, 2),
            email_opt_in=True,
        )
        suppressions.suppress(
            session=session,
            channel=Channel.EMAIL,
            address="old@example.com",
            reason=suppressions.SuppressionReason.HARD_BOUNCE,
        )
    text = "address,note\nBOB@example.com,asked at the till\n(312) 555-0199\nnot an address\n"
    text += "old@example.com\n\n"
    with session_scope() as session:
        with pytest.raises(PermissionDenied):
            suppressions.import_list(session=session, actor=VIEWER, text=text, now=NOW)
        done = suppressions.import_list(session=session, actor=MARKETER, text=text, now=NOW)
    assert (done.added, done.already) == (2, 1)
    assert done.problems == [
        "line 4: 'not an address' is neither an email address nor a phone number"
    ]
    assert done.summary() == (
        "2 suppressed, 1 already were; 1 lines skipped: line 4: 'not an address' is neither an "
        "email address nor a phone number."
    )
    with session_scope() as session:
        bob = session.scalars(select(Customer)).one()
        assert not bob.can_email and not bob.email_opt_in, "consent withdrawn with the listing"
        assert set(session.scalars(select(Suppression.address))) == {
            "bob@example.com",
            "+13125550199",
            "old@example.com",
        }
        out = io.StringIO()
        assert suppressions.export_list(session=session, actor=MARKETER, out=out) == 3
    assert {r["reason"] for r in rows(out.getvalue())} == {"manual", "hard_bounce"}


@pytest.mark.both_databases
def test_statuses_follow_the_list_and_only_changed_ones_are_written(database: str) -> None:
    with session_scope() as session:
        people = [
            customers.create_customer(
                session=session, actor=SYSTEM, now=NOW, email=f"p{n}@example.com"
            ).id
            for n in range(5)
        ]
        suppressions.suppress(
            session=session,
            channel=Channel.EMAIL,
            address="P3@Example.com",
            reason=SuppressionReason.UNSUBSCRIBED,
        )
    with session_scope() as session:
        assert suppressions.sync_contact_status(session=session, customer_ids=people) == 0
        statuses = {i: s for i, s in session.execute(select(Customer.id, Customer.email_status))}
        assert [statuses[i] for i in people] == ["active"] * 3 + ["suppressed", "active"]
        suppressions.lift(session=session, channel=Channel.EMAIL, address="p3@example.com")
    with session_scope() as session:
        session.execute(update(Customer).values(email_status=ContactStatus.SUPPRESSED))
        # Only p0 is on the list now: the four others were wrong, p0 was right already.
        session.add(Suppression(channel="email", address="p0@example.com", reason="complaint"))
        session.flush()
        assert suppressions.sync_contact_status(session=session, customer_ids=people) == 4
