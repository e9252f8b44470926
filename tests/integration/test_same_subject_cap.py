"""Florida, Oklahoma and Maryland allow at most 3 texts on the same subject (one campaign) in a
rolling 24 hours: the fourth waits until the first is a day old, other campaigns go on, and
several workers at once never let a fourth through (COMPLIANCE.md checklist 3)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import insert

from core import compliance
from core.db import session_scope
from core.messaging import monitor, outbox, sender, suppressions
from core.models import (
    Campaign,
    CampaignStatus,
    Channel,
    Message,
    MessageStatus,
    SuppressionReason,
)
from core.permissions import SYSTEM
from tests.integration.conftest import NOON_CHICAGO, messages, send_queued, send_with_workers

HOURS_AGO = (20, 10, 2)


def roomy_weekly_caps() -> None:
    """Weekly caps out of the way: only the same-subject rule is under test."""
    with session_scope() as session:
        compliance.save_policy(
            session=session,
            actor=SYSTEM,
            policy=compliance.Policy(
                frequency_cap_per_week=21, email_cap_per_week=21, sms_cap_per_week=21
            ),
        )


def texts_sent(customer_id: int, campaign_id: int, hours_ago: tuple[int, ...]) -> None:
    with session_scope() as session:
        session.execute(
            insert(Message),
            [
                {
                    "key": f"before:{customer_id}:{campaign_id}:{h}",
                    "campaign_id": campaign_id,
                    "customer_id": customer_id,
                    "channel": "sms",
                    "status": MessageStatus.DELIVERED,
                    "send_after": NOON_CHICAGO - timedelta(hours=h),
                    "sent_at": NOON_CHICAGO - timedelta(hours=h),
                }
                for h in hours_ago
            ],
        )


def other_campaign() -> int:
    with session_scope() as session:
        other = Campaign(name="Another subject", status=CampaignStatus.RUNNING)
        session.add(other)
        session.flush()
        return other.id


@pytest.mark.both_databases
def test_the_fourth_text_on_a_campaign_in_a_day_waits_in_capped_states_only(
    shop: dict[str, int],
) -> None:
    roomy_weekly_caps()
    for name in ("eve", "ana"):  # eve has a Florida number; ana is in Illinois
        texts_sent(shop[name], shop["campaign"], HOURS_AGO)
    texts_sent(shop["eve"], other_campaign(), (1, 3, 5))  # another subject: counted apart
    with session_scope() as session:
        outbox.queue_due_steps(session=session, now=NOON_CHICAGO)
        suppressions.suppress(  # after it was written: stopped when it is sent
            session=session,
            channel=Channel.EMAIL,
            address="ana@example.com",
            reason=SuppressionReason.MANUAL,
        )
    send_queued()
    ours = {
        m.customer_id: m
        for m in messages(campaign_id=shop["campaign"], channel="sms")
        if not m.key.startswith("before:")
    }
    eve, ana = ours[shop["eve"]], ours[shop["ana"]]
    assert ana.status == MessageStatus.SENT
    assert eve.status == MessageStatus.QUEUED, "deferred, never dropped"
    first = NOON_CHICAGO - timedelta(hours=HOURS_AGO[0])
    assert eve.send_after == first + timedelta(hours=24)
    assert eve.error == (
        "same-subject cap (FL): 3 texts on this campaign in 24 h; moved to Thu 17:00 their time"
    )
    # Each decision is kept with its message, with the rule behind it.
    ana_email = next(
        m
        for m in messages(campaign_id=shop["campaign"], channel="email")
        if m.customer_id == shop["ana"]
    )
    with session_scope(read_only=True) as session:
        decided = {
            m.id: [
                (e.type, e.data.get("reason"))
                for e in monitor.timeline(session=session, message_id=m.id)
            ]
            for m in (eve, ana, ana_email)
        }
    assert decided[eve.id] == [("message.deferred", eve.error)]
    assert decided[ana.id] == [("message.sent", sender.PASSED)]
    assert decided[ana_email.id] == [("message.suppressed", "the address is suppressed (manual)")]


@pytest.mark.postgresql_only
def test_workers_at_once_never_let_a_fourth_text_through(shop: dict[str, int]) -> None:
    roomy_weekly_caps()
    with session_scope() as session:
        campaign = session.get_one(Campaign, shop["campaign"])
        sms_step = next(s for s in campaign.steps if s.channel == "sms")
        template = outbox.default_template(session=session, campaign_type="holiday", channel="sms")
        assert template is not None
        session.execute(
            insert(Message),
            [
                {
                    "key": f"burst:{n}",
                    "campaign_id": shop["campaign"],
                    "step_id": sms_step.id,
                    "customer_id": shop["eve"],
                    "template_id": template.id,
                    "channel": "sms",
                    "status": MessageStatus.QUEUED,
                    "send_after": NOON_CHICAGO - timedelta(minutes=1),
                }
                for n in range(8)
            ],
        )
    send_with_workers(Channel.SMS, batch=1)
    burst = [m for m in messages() if m.key.startswith("burst:")]
    assert sorted(m.status for m in burst).count(MessageStatus.SENT) == 3
    waiting = [m for m in burst if m.status == MessageStatus.QUEUED]
    assert len(waiting) == 5 and all(m.send_after > NOON_CHICAGO for m in waiting)
