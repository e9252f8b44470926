"""A campaign's figures, counted from the outbox and the providers' events, on both databases;
the same figures from `python -m core campaigns`; and "Start now" writing its due sends at once."""

from __future__ import annotations

import io
import json
import sys
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update

from core.cli import main
from core.config import get_settings
from core.db import session_scope, utc_now
from core.messaging import links, monitor, webhooks
from core.messaging.sender import render_again
from core.models import Campaign, CampaignStatus, CampaignStep, Message, MessageStatus
from core.permissions import SYSTEM
from jobs import flows, queue
from tests.integration.conftest import (
    NOON_CHICAGO,
    by_customer,
    mailgun_event,
    messages,
    send_queued,
)


def figures(campaign_id: int) -> monitor.Figures:
    with session_scope(read_only=True) as session:
        return monitor.campaign_figures(session=session, campaign_ids=[campaign_id])[campaign_id]


@pytest.mark.both_databases
def test_every_figure_is_counted_from_messages_and_events(
    shop: dict[str, int], providers: tuple[Any, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    before = figures(shop["campaign"])
    assert before.targeted == 0 and before.rate(before.clicked) is None

    send_queued()
    sent = by_customer(shop)
    mailgun_event(sent["ana", "email"], "delivered")
    mailgun_event(sent["ana", "email"], "clicked")
    mailgun_event(sent["bob", "email"], "delivered")
    mailgun_event(sent["dee", "email"], "failed", severity="permanent")
    with session_scope() as session:
        token = links.unsubscribe_token(links.link_key(), sent["eve", "email"].id)
        webhooks.unsubscribe_from_link(session=session, token=token, now=NOON_CHICAGO)
    with session_scope() as session:  # one text still waiting for its time
        session.execute(
            update(Message)
            .where(Message.id == sent["eve", "sms"].id)
            .values(status=MessageStatus.QUEUED, sent_at=None)
        )

    got = figures(shop["campaign"])
    assert got.as_dict() == {
        "targeted": 6,
        "held_out": 0,
        "queued": 1,
        "sent": 5,
        "delivered": 2,
        "opened": 1,  # the click proves the open
        "clicked": 1,
        "unsubscribed": 1,
        "bounced": 1,
        "failed": 0,
        "stopped": 0,
        "cost_cents": round(got.cost_cents, 2),
        "sent_in_test_mode": 0,
        "test_mode": False,
    }
    assert got.cost_cents > 0  # the fake Twilio prices its texts
    assert got.rate(got.clicked) == pytest.approx(1 / 5)

    sys.stdin = io.StringIO("")
    assert main(["campaigns", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [c["id"] for c in listed] == [shop["campaign"]]
    assert {k: listed[0][k] for k in got.as_dict()} == got.as_dict()
    assert listed[0]["status"] == "running" and listed[0]["audience"] == "segments"


@pytest.mark.both_databases
def test_sandbox_sends_are_counted_as_test_mode(shop: dict[str, int]) -> None:
    send_queued()
    got = figures(shop["campaign"])
    assert got.sent == got.sent_in_test_mode == 6 and got.test_mode


@pytest.mark.both_databases
def test_start_now_writes_the_due_sends_at_once(shop: dict[str, int]) -> None:
    with session_scope() as session:
        session.execute(
            update(Campaign)
            .where(Campaign.id == shop["campaign"])
            .values(status=CampaignStatus.DRAFT, builder_step=4)
        )
    wall_clock = utc_now()
    started = flows.start_campaign(actor=SYSTEM, campaign_id=shop["campaign"], now=NOON_CHICAGO)
    # Written before the call returned, not on the clock's next minute, and sending at once.
    assert len(messages()) == 6
    assert started.sending_job is not None and started.actions_job is not None
    assert queue.wait_for(started.sending_job, timeout=60).status == "succeeded"
    assert queue.wait_for(started.actions_job, timeout=60).status == "succeeded"
    # The send job reads the wall clock: a message it deferred waits for the recipient's legal
    # hours at that clock; every other one kept the campaign's start (sent, or not yet due).
    for m in messages():
        if "quiet hours" in m.error:
            assert m.status == MessageStatus.QUEUED and m.send_after > wall_clock
        else:
            assert m.send_after <= NOON_CHICAGO


@pytest.mark.both_databases
def test_the_command_line_starts_a_campaign(
    shop: dict[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    # The command reads the clock: the campaign runs this week, whatever today is.
    with session_scope() as session:
        session.execute(
            update(Campaign)
            .where(Campaign.id == shop["campaign"])
            .values(
                status="draft",
                starts_at=utc_now() - timedelta(hours=1),
                ends_at=utc_now() + timedelta(days=7),
            )
        )
        tomorrow = (utc_now() + timedelta(days=1)).astimezone(ZoneInfo("America/Chicago")).date()
        session.execute(
            update(CampaignStep)
            .where(CampaignStep.campaign_id == shop["campaign"])
            .values(day=tomorrow)
        )
    assert main(["campaign", "start", str(shop["campaign"])]) == 0
    started = json.loads(capsys.readouterr().out)
    assert started["status"] == "running" and started["actions"] == 4
    assert main(["campaign", "start", "999"]) == 2
    assert "no campaign #999" in capsys.readouterr().err.lower()


@pytest.mark.both_databases
def test_a_sent_message_is_shown_as_it_was_rendered(shop: dict[str, int]) -> None:
    send_queued()
    ana = by_customer(shop)["ana", "email"]
    with session_scope(read_only=True) as session:
        shown = render_again(session=session, settings=get_settings(), message_id=ana.id)
    assert shown is not None and shown.subject == ana.subject != ""
    assert "Hi Ana" in shown.html and "15% off a mixed case" in shown.html
