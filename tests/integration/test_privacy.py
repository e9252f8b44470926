"""A person's privacy requests on both databases: everything about them exported, and their
erasure, which keeps the store's figures and keeps them off every list for good."""

import io
import json
import zipfile
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import customers
from core.compliance import reachable
from core.customers import privacy
from core.db import session_scope
from core.errors import Conflict, PermissionDenied
from core.messaging import suppressions
from core.models import (
    AuditEntry,
    Channel,
    ConsentRecord,
    ContactStatus,
    Customer,
    Event,
    Message,
    Order,
    OrderItem,
    Segment,
    SegmentMember,
    Suppression,
)
from core.permissions import SYSTEM, Actor, Role
from tests.integration.conftest import load
from tests.moments import NOW

MARKETER = Actor(user_id=None, email="m@example.com", role=Role.MARKETER)
VIEWER = Actor(user_id=None, email="v@example.com", role=Role.VIEWER)


def ana_with_a_history(session: Session, **fields: object) -> int:
    """Ana, opted in on both channels, with an order, a message, an event, a segment and an
    edit in the audit trail."""
    ana = customers.create_customer(
        session=session,
        actor=SYSTEM,
        now=NOW,
        first_name="Ana",
        last_name="Lopez",
        email="Ana@Example.com",
        phone="+13125550101",
        birth_date=date(1980, 5, 17),
        address="1 Main St",
        city="Chicago",
        state="IL",
        zip="60622",
        external_id="POS-1",
        email_opt_in=True,
        sms_opt_in=True,
        **fields,
    )
    customers.update_customer(
        session=session,
        actor=SYSTEM,
        customer_id=ana.id,
        now=NOW,
        city="Evanston",
    )
    order = Order(customer_id=ana.id, ordered_at=NOW - timedelta(days=3), total_cents=4599)
    order.items.append(
        OrderItem(sku="=HYPERLINK(1)", quantity=1, unit_price_cents=4599, line_total_cents=4599)
    )
    segment = Segment(name="Wine lovers")
    session.add_all([order, segment])
    session.flush()
    session.add_all(
        [
            SegmentMember(segment_id=segment.id, customer_id=ana.id),
            Message(
                key=f"test:{ana.id}",
                customer_id=ana.id,
                channel=Channel.EMAIL,
                to_address="ana@example.com",
                subject="Your weekend pick",
            ),
            Event(
                type="email.clicked",
                customer_id=ana.id,
                data={"recipient": "ana@example.com", "ip": "203.0.113.9", "event": "clicked"},
            ),
        ]
    )
    session.flush()
    return ana.id


@pytest.mark.both_databases
def test_the_export_holds_everything_about_the_person_and_is_audited(database: str) -> None:
    with session_scope() as session:
        ana = ana_with_a_history(session)
    with session_scope() as session:
        with pytest.raises(PermissionDenied):
            privacy.personal_data(session=session, actor=VIEWER, customer_id=ana, now=NOW)
        data = privacy.personal_data(session=session, actor=MARKETER, customer_id=ana, now=NOW)
    assert data["profile"]["email"] == "ana@example.com"
    assert data["profile"]["city"] == "Evanston"
    assert {(c["channel"], c["granted"]) for c in data["consents"]} == {
        ("email", True),
        ("sms", True),
    }
    assert [o["total_cents"] for o in data["orders"]] == [4599]
    assert data["orders"][0]["items"][0]["sku"] == "=HYPERLINK(1)"
    assert [m["subject"] for m in data["messages"]] == ["Your weekend pick"]
    assert data["events"][0]["data"]["ip"] == "203.0.113.9"
    assert data["segments"] == ["Wine lovers"]
    json.dumps(data)  # JSON-ready as it is

    files = zipfile.ZipFile(io.BytesIO(privacy.as_csv_zip(data)))
    assert sorted(files.namelist()) == [
        "consents.csv",
        "events.csv",
        "messages.csv",
        "order_lines.csv",
        "orders.csv",
        "profile.csv",
        "segments.csv",
        "suppressions.csv",
    ]
    assert "email,ana@example.com" in files.read("profile.csv").decode()
    assert "'=HYPERLINK(1)" in files.read("order_lines.csv").decode()  # no formula reaches Excel

    with session_scope() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "customer.personal_data_exported")
        ).one()
        assert (entry.actor, entry.entity_id) == ("m@example.com", str(ana))
        assert entry.changes["orders"] == 1 and entry.changes["consents"] == 2


@pytest.mark.both_databases
def test_erasure_removes_the_person_and_keeps_the_figures(database: str) -> None:
    with session_scope() as session:
        ana = ana_with_a_history(session)
    with session_scope() as session:
        with pytest.raises(PermissionDenied):
            privacy.erase_customer(session=session, actor=MARKETER, customer_id=ana, now=NOW)
        erasure = privacy.erase_customer(
            session=session,
            actor=SYSTEM,
            customer_id=ana,
            now=NOW,
            requested_on=date(2026, 11, 20),
        )
    assert erasure.as_dict() == {"customer_id": ana, "orders_kept": 1, "addresses_suppressed": 2}

    with session_scope() as session:
        row = session.get_one(Customer, ana)
        assert (row.email, row.phone, row.external_id, row.birth_date) == (None, None, None, None)
        assert (row.first_name, row.last_name, row.address, row.city, row.zip) == ("",) * 5
        assert row.erased_at is not None and row.deleted_at is not None
        assert row.state == "IL"  # per-state figures stay
        assert session.scalar(select(func.sum(Order.total_cents))) == 4599
        consents = session.scalars(select(ConsentRecord).where(ConsentRecord.customer_id == ana))
        assert [(c.address, c.details) for c in consents] == [(None, {}), (None, {})]
        assert session.scalars(select(Message.to_address)).all() == [""]
        assert session.scalars(select(Event.data)).all() == [{"event": "clicked"}]
        assert session.scalar(select(func.count()).select_from(SegmentMember)) == 0
        history = session.scalars(
            select(AuditEntry.changes).where(AuditEntry.entity_id == str(ana))
        ).all()
        assert "Evanston" not in json.dumps(history) and "Ana" not in json.dumps(history)
        erased = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "customer.erased")
        ).one()
        assert erased.changes["requested_on"] == "2026-11-20"
        listed = session.scalars(select(Suppression)).all()
        assert {s.channel for s in listed} == {"email", "sms"}
        assert all(s.address.startswith(suppressions.HASHED) for s in listed)
        assert "5550101" not in json.dumps([s.address for s in listed])
        for typed, channel in (("ANA@example.com", "email"), ("(312) 555-0101", "sms")):
            found, count = suppressions.list_suppressions(session=session, search=typed)
            assert [s.channel for s in found] == [channel] and count == 1, typed

        with pytest.raises(Conflict, match="erased"):
            privacy.erase_customer(session=session, actor=SYSTEM, customer_id=ana, now=NOW)
        with pytest.raises(Conflict, match="nothing to restore"):
            customers.restore(session=session, actor=SYSTEM, customer_id=ana)


@pytest.mark.both_databases
def test_an_erased_person_imported_again_is_still_suppressed(database: str, tmp_path: Path) -> None:
    with session_scope() as session:
        ana = ana_with_a_history(session)
        privacy.erase_customer(session=session, actor=SYSTEM, customer_id=ana, now=NOW)
    file = (
        "lastcall_id,Customer #,E-mail,Cell,DOB,Email Opt In,SMS Opt In\n"
        f"{ana},POS-1,ANA@example.com,(312) 555-0101,1980-05-17,yes,yes\n"
    )
    summary, problems = load(tmp_path, file)
    assert (summary.inserted, summary.updated, problems) == (1, 0, [])
    with session_scope() as session:
        back = session.scalars(select(Customer).where(Customer.erased_at.is_(None))).one()
        assert back.id != ana  # an old export does not refill the anonymous row
        assert (back.email_status, back.sms_status) == (ContactStatus.SUPPRESSED,) * 2
        for channel in (Channel.EMAIL, Channel.SMS):
            assert (
                session.scalar(
                    select(func.count()).where(
                        Customer.id == back.id, reachable(channel, NOW.date())
                    )
                )
                == 0
            )


@pytest.mark.both_databases
def test_a_household_phone_stays_suppressed_in_plain_for_the_other_person(
    database: str,
) -> None:
    with session_scope() as session:
        ana = ana_with_a_history(session)
        bob = customers.create_customer(
            session=session,
            actor=SYSTEM,
            now=NOW,
            first_name="Bob",
            email="bob@example.com",
            phone="+13125550101",
            birth_date=date(1979, 1, 2),
            sms_opt_in=True,
        ).id
        privacy.erase_customer(session=session, actor=SYSTEM, customer_id=ana, now=NOW)
    with session_scope() as session:
        plain = session.scalars(
            select(Suppression.address).where(Suppression.channel == "sms")
        ).all()
        assert plain == ["+13125550101"]
        assert session.get_one(Customer, bob).sms_status == ContactStatus.SUPPRESSED


@pytest.mark.both_databases
def test_a_new_consent_takes_the_erased_hash_off_the_list(database: str) -> None:
    with session_scope() as session:
        ana = ana_with_a_history(session)
        privacy.erase_customer(session=session, actor=SYSTEM, customer_id=ana, now=NOW)
    with session_scope() as session:
        suppressions.lift(session=session, channel=Channel.SMS, address="+13125550101")
    with session_scope() as session:
        assert session.scalars(select(Suppression.channel)).all() == ["email"]
