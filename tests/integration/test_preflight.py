"""A campaign's pre-flight report on both databases: every member counted once, by the first
rule that keeps them from each channel, and the texts that will wait for quiet hours."""

from datetime import date, timedelta

import pytest
from sqlalchemy.orm import Session

from core import customers
from core.campaigns import preflight
from core.db import session_scope
from core.messaging import suppressions
from core.models import (
    Campaign,
    CampaignStep,
    Channel,
    Customer,
    Segment,
    SegmentMember,
    SuppressionReason,
)
from core.permissions import SYSTEM
from tests.moments import NOW, TODAY

ADULT = date(1980, 5, 17)
PEOPLE = {
    "ana": {"email": "ana@example.com", "phone": "+13125550101", "state": "IL"},
    "bob": {"email": "bob@example.com", "sms_opt_in": False},
    "cy": {"email": "cy@example.com", "phone": "+13125550103", "birth_date": None},
    "dee": {"email": "dee@example.com", "birth_date": date(TODAY.year - 20, 1, 1)},
    "eve": {"phone": "+13055550105", "state": "IL", "email_opt_in": False},  # a Florida number
    "fay": {"email": "fay@example.com", "sms_opt_in": False},
    "hal": {"phone": "+12065550108", "state": "WA", "email_opt_in": False},
    "ian": {"phone": "+14165550109", "email_opt_in": False},  # Toronto
    "gus": {"email": "gus@example.com"},
}


def shop(session: Session, *, sms_at: str) -> Campaign:
    ids = {}
    for name, fields in PEOPLE.items():
        values = {
            "first_name": name,
            "birth_date": ADULT,
            "email_opt_in": True,
            "sms_opt_in": "phone" in fields,
            **fields,
        }
        if values["birth_date"] is None or values["birth_date"] > ADULT.replace(year=2000):
            values["email_opt_in"] = values["sms_opt_in"] = False  # no consent without 21+
        ids[name] = customers.create_customer(session=session, actor=SYSTEM, now=NOW, **values).id
    session.get_one(Customer, ids["hal"]).sms_opt_in_at = None  # no record of the consent
    suppressions.suppress(
        session=session,
        channel=Channel.EMAIL,
        address="fay@example.com",
        reason=SuppressionReason.UNSUBSCRIBED,
    )
    chosen, excluded = Segment(name="Everyone"), Segment(name="Staff")
    session.add_all([chosen, excluded])
    session.flush()
    session.add_all(SegmentMember(segment_id=chosen.id, customer_id=i) for i in ids.values())
    session.add(SegmentMember(segment_id=excluded.id, customer_id=ids["gus"]))
    campaign = Campaign(
        name="Weekend",
        segment_ids=[chosen.id],
        excluded_segment_ids=[excluded.id],
        channels=["email", "sms"],
    )
    saturday = TODAY + timedelta(days=(5 - TODAY.weekday()) % 7)
    campaign.steps = [
        CampaignStep(
            position=1, day=saturday, local_time="10:00", channel="email", offer_kind="none"
        ),
        CampaignStep(position=2, day=saturday, local_time=sms_at, channel="sms", offer_kind="none"),
    ]
    session.add(campaign)
    session.flush()
    return campaign


@pytest.mark.both_databases
def test_the_report_counts_everyone_once_by_the_first_rule_that_stops_them(
    database: str,
) -> None:
    with session_scope() as session:
        report = preflight.preflight(
            session=session, campaign=shop(session, sms_at="20:30"), today=TODAY
        )
    assert (report.members, report.left_out, report.eligible) == (9, 1, 3)  # ana, bob, eve
    assert report.excluded == {
        "unverified age": 1,
        "under 21": 1,
        "suppressed and no US mobile number": 1,
        "no email address and Washington: no recorded consent": 1,
        "no email address and a Canadian number": 1,
    }
    email, sms = report.channels
    assert (email.channel, email.eligible) == ("email", 2)
    assert email.excluded == {
        "unverified age": 1,
        "under 21": 1,
        "suppressed": 1,
        "no email address": 3,
    }
    assert (sms.channel, sms.eligible, sms.deferred) == ("sms", 2, 1)  # eve's Florida number
    assert sms.excluded == {
        "unverified age": 1,
        "under 21": 1,
        "no US mobile number": 2,
        "Washington: no recorded consent": 1,
        "a Canadian number": 1,
    }
    assert report.sentence().startswith("3 eligible; 5 excluded: 1 no email address and ")
    assert "1 left out by the excluded segments; 1 texts deferred past quiet hours" in (
        report.sentence()
    )


@pytest.mark.both_databases
def test_a_text_inside_every_window_defers_nobody(database: str) -> None:
    with session_scope() as session:
        report = preflight.preflight(
            session=session, campaign=shop(session, sms_at="12:00"), today=TODAY
        )
    assert report.deferred == 0 and report.as_dict()["channels"][1]["deferred"] == 0
