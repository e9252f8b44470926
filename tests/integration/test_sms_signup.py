"""Signing up for texts by keyword on both databases: date of birth first (21+), then the
disclosure, and consent only on Y (double opt-in), with its proof recorded."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from core import customers
from core.db import session_scope
from core.messaging import sms_signup, webhooks
from core.models import ConsentRecord, Customer, SmsSignup
from core.permissions import SYSTEM
from tests.moments import NOW

NUMBER = "+13125550177"
_sids = itertools.count()


def texted(body: str, number: str = NUMBER, now: datetime = NOW) -> str | None:
    with session_scope() as session:
        reply = webhooks.handle_inbound_sms(
            session=session,
            params={"MessageSid": f"SM{next(_sids)}", "From": number, "Body": body},
            now=now,
        )
    return reply.text


@pytest.mark.both_databases
def test_a_new_number_gives_its_birth_date_then_confirms_with_y(database: str) -> None:
    assert "reply with your date of birth (MM/DD/YYYY)" in (texted(" join ") or "")
    assert "like 05/17/1980" in (texted("soon") or "")
    disclosure = texted("05/17/1980") or ""
    assert "reply Y to get marketing texts" in disclosure
    assert "Consent is not a condition of purchase" in disclosure
    assert "up to 3 msgs a week" in disclosure and "STOP to cancel" in disclosure
    with session_scope(read_only=True) as session:
        assert session.scalars(select(Customer)).all() == [], "no consent before the Y"

    assert (texted("Y") or "").startswith("Last Call Liquor: you're in! Up to 3 msgs a week.")
    with session_scope(read_only=True) as session:
        customer = session.scalars(select(Customer)).one()
        assert (customer.phone, customer.birth_date) == (NUMBER, date(1980, 5, 17))
        assert customer.source == "sms keyword" and customer.can_text
        assert not customer.age_verified, "a date of birth texted in is not an ID check"
        record = session.scalars(select(ConsentRecord)).one()
        assert record.granted and record.source == "sms keyword"
        assert record.details["double_opt_in"] is True
        assert record.details["version"] == sms_signup.DISCLOSURE_VERSION
        assert record.details["disclosure"] == disclosure
        assert record.details["keyword"] == "JOIN"
        assert session.scalars(select(SmsSignup)).all() == []


@pytest.mark.both_databases
def test_under_21_is_refused_and_nothing_is_kept(database: str) -> None:
    texted("JOIN")
    assert "for adults 21 and older" in (texted("01/02/2010") or "")
    assert texted("Y") is None, "no sign-up left to confirm"
    with session_scope(read_only=True) as session:
        assert session.scalars(select(Customer)).all() == []
        assert session.scalars(select(SmsSignup)).all() == []


def test_twenty_one_counts_by_the_stores_day(database: str) -> None:
    """At 9 p.m. in Chicago (the store's zone) it is already tomorrow in UTC: someone whose 21st
    birthday is tomorrow is refused, and only tomorrow signed up."""
    evening = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)  # 2026-12-01 21:00 in Chicago
    texted("JOIN", now=evening)
    assert "21 and older" in (texted("12/02/2005", now=evening) or "")
    texted("JOIN", now=evening + timedelta(hours=4))  # 1 a.m. on the birthday
    assert "reply Y" in (texted("12/02/2005", now=evening + timedelta(hours=4)) or "")


@pytest.mark.both_databases
def test_a_known_adult_goes_straight_to_the_disclosure(database: str) -> None:
    with session_scope() as session:
        known = customers.create_customer(
            session=session, actor=SYSTEM, now=NOW, phone=NUMBER, birth_date=date(1975, 1, 1)
        ).id
    assert "reply Y to get marketing texts" in (texted("join") or "")
    assert "you're in" in (texted("yes") or "")
    with session_scope(read_only=True) as session:
        assert session.get_one(Customer, known).sms_opt_in
        assert session.scalar(select(ConsentRecord.details)).get("confirmed_with") == "yes"


@pytest.mark.both_databases
def test_an_unfinished_sign_up_is_forgotten_after_a_day(database: str) -> None:
    texted("JOIN")
    texted("05/17/1980")
    assert texted("Y", now=NOW + timedelta(hours=25)) is None
    with session_scope(read_only=True) as session:
        assert session.scalars(select(Customer)).all() == []


def test_canadian_numbers_are_not_signed_up(database: str) -> None:
    assert "US mobile numbers only" in (texted("JOIN", number="+14165550101") or "")
