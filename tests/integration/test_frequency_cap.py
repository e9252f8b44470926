"""The weekly frequency cap across campaigns, per channel and overall: when messages are written
and again when they are sent, with several workers at once on PostgreSQL; the plan check and
the HELP reply quote the same numbers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import insert, update

from core import compliance
from core.db import session_scope
from core.messaging import outbox, webhooks
from core.models import Campaign, CampaignStatus, Channel, Message, MessageStatus
from core.permissions import SYSTEM
from tests.integration.conftest import (
    NOON_CHICAGO,
    by_customer,
    messages,
    send_queued,
    send_with_workers,
)


def set_caps(**caps: int) -> None:
    with session_scope() as session:
        compliance.save_policy(session=session, actor=SYSTEM, policy=compliance.Policy(**caps))


def earlier_messages(customer_id: int, channel: str, count: int, days_ago: float = 2) -> None:
    """`count` messages of another campaign sent to the customer `days_ago`."""
    with session_scope() as session:
        other = Campaign(name="Earlier", status=CampaignStatus.COMPLETED)
        session.add(other)
        session.flush()
        sent_at = NOON_CHICAGO - timedelta(days=days_ago)
        session.execute(
            insert(Message),
            [
                {
                    "key": f"earlier:{customer_id}:{channel}:{n}",
                    "campaign_id": other.id,
                    "customer_id": customer_id,
                    "channel": channel,
                    "status": MessageStatus.DELIVERED,
                    "send_after": sent_at,
                    "sent_at": sent_at,
                }
                for n in range(count)
            ],
        )


@pytest.mark.both_databases
def test_a_customer_at_the_cap_is_stopped_when_the_step_is_written(shop: dict[str, int]) -> None:
    earlier_messages(shop["ana"], "email", 3)  # the default overall cap is 3
    earlier_messages(shop["eve"], "sms", 1, days_ago=8)  # outside the 7 days: does not count
    with session_scope() as session:
        outbox.queue_due_steps(session=session, now=NOON_CHICAGO)
    ours = {k: m for k, m in by_customer(shop).items() if m.campaign_id == shop["campaign"]}
    assert {ours["ana", c].status for c in ("email", "sms")} == {MessageStatus.SUPPRESSED}
    assert ours["ana", "email"].error == "frequency cap: 3 emails in 7 days already"
    assert ours["ana", "sms"].error == "frequency cap: 3 messages in 7 days already"
    assert ours["eve", "sms"].status == MessageStatus.QUEUED
    assert ours["bob", "email"].status == MessageStatus.QUEUED


@pytest.mark.both_databases
def test_the_per_channel_cap_stops_texts_but_not_email(shop: dict[str, int]) -> None:
    set_caps(frequency_cap_per_week=5, sms_cap_per_week=1)
    earlier_messages(shop["ana"], "sms", 1)
    send_queued()
    ours = {k: m for k, m in by_customer(shop).items() if m.campaign_id == shop["campaign"]}
    assert ours["ana", "sms"].status == MessageStatus.SUPPRESSED
    assert ours["ana", "sms"].error == "frequency cap: 1 texts in 7 days already"
    assert ours["ana", "email"].status == MessageStatus.SENT
    assert ours["eve", "sms"].status == MessageStatus.SENT


@pytest.mark.both_databases
def test_the_sender_counts_again_what_went_out_since_writing(shop: dict[str, int]) -> None:
    with session_scope() as session:
        outbox.queue_due_steps(session=session, now=NOON_CHICAGO)
    set_caps(frequency_cap_per_week=1)  # tightened after the messages were written
    send_queued()
    sent = by_customer(shop)
    # Ana and Eve each had an email and a text due: one goes, the other is stopped.
    for name in ("ana", "eve"):
        statuses = sorted(sent[name, c].status for c in ("email", "sms"))
        assert statuses == [MessageStatus.SENT, MessageStatus.SUPPRESSED], name
        stopped = next(
            sent[name, c] for c in ("email", "sms") if sent[name, c].status == "suppressed"
        )
        assert stopped.error.startswith("frequency cap: 1 ")


@pytest.mark.postgresql_only
def test_workers_sending_at_once_never_break_the_cap(shop: dict[str, int]) -> None:
    """Many messages to the same people claimed by four workers at once: with a cap of 2 a week,
    everybody gets exactly two, whichever worker decides first."""
    set_caps(frequency_cap_per_week=2)
    with session_scope() as session:
        campaign = session.get(Campaign, shop["campaign"])
        assert campaign is not None
        step_ids = [s.id for s in campaign.steps]
        people = [shop[n] for n in ("ana", "bob", "dee", "eve")]
        session.execute(
            insert(Message),
            [
                {
                    "key": f"burst:{person}:{n}",
                    "campaign_id": shop["campaign"],
                    "step_id": step_ids[0],
                    "customer_id": person,
                    "channel": "email",
                    "status": MessageStatus.QUEUED,
                    "send_after": NOON_CHICAGO - timedelta(minutes=1),
                }
                for person in people
                for n in range(6)
            ],
        )
    with session_scope() as session:
        template = outbox.default_template(
            session=session, campaign_type="holiday", channel="email"
        )
        assert template is not None
        session.execute(
            update(Message).where(Message.key.like("burst:%")).values(template_id=template.id)
        )
    send_with_workers(Channel.EMAIL, batch=2)
    burst = [m for m in messages() if m.key.startswith("burst:")]
    assert {m.status for m in burst} <= {MessageStatus.SENT, MessageStatus.SUPPRESSED}
    for person in people:
        went = [m for m in burst if m.customer_id == person and m.status == MessageStatus.SENT]
        assert len(went) == 2, person


@pytest.mark.both_databases
def test_help_and_the_planner_quote_the_same_caps(shop: dict[str, int]) -> None:
    set_caps(frequency_cap_per_week=4, sms_cap_per_week=2)
    with session_scope() as session:
        reply = webhooks.handle_inbound_sms(
            session=session, params={"From": "+13125550101", "Body": "HELP"}, now=NOON_CHICAGO
        )
    assert reply.text is not None and "up to 2 msgs a week" in reply.text
