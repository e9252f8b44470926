"""Simulated engagement for the demo store: its test-mode emails get deliveries, opens and
clicks as Mailgun would report them, so a campaign (and an A/B test) run on the demo shows live
results. Only a store loaded as the demo has it on; every event says it was simulated.

The simulated recipients follow a stated model, not chance alone: 38 % open an email, 11 % of
those click (the demo history's rates); a subject that greets them by name is opened 1.3 times
as often; a percentage discount is clicked in proportion to its size (10 % off as the base, each
5 points more a quarter more clicks, between half and twice the base); most opens come in the
first hour. Each message's draws come from a hash of its id, so applying them twice changes
nothing.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.infra.setting_rows import read_setting, write_setting
from core.messaging.webhooks import handle_mailgun_event
from core.models import ABTest, ABVariant, CampaignStep, Channel, Message, Template

SETTING_KEY = "demo.simulation"
WINDOW = timedelta(days=3)
"""How long after it was sent a message may still be opened or clicked."""
OPEN_RATE = 0.38
CLICK_RATE = 0.11
GREETING_LIFT = 1.3


class SimulationSettings(BaseModel):
    engagement: bool = False


def simulate_engagement(*, session: Session) -> None:
    """Turn the simulation on (the demo store does, when it is loaded)."""
    write_setting(session, SETTING_KEY, SimulationSettings(engagement=True))


def simulating(*, session: Session) -> bool:
    return read_setting(session, SETTING_KEY, SimulationSettings).engagement


@dataclass(frozen=True)
class Plan:
    """When each event happens after the message was sent (None: it does not)."""

    delivered: timedelta
    opened: timedelta | None
    clicked: timedelta | None


def plan_for(message_id: int, *, greets: bool, percent_off: float | None) -> Plan:
    digest = hashlib.sha256(f"simulated:{message_id}".encode()).digest()
    draws = [int.from_bytes(digest[i : i + 4], "big") / 2**32 for i in range(0, 20, 4)]
    opens = draws[0] < OPEN_RATE * (GREETING_LIFT if greets else 1.0)
    offer = 1.0 if percent_off is None else min(max(1 + (percent_off - 10) / 20, 0.5), 2.0)
    clicks = opens and draws[1] < CLICK_RATE * offer
    # Most opens come soon after the send and fewer later (exponential, mean about 45 min);
    # a click follows its open within half an hour.
    opened = timedelta(minutes=2 - 45 * math.log(1 - draws[2])) if opens else None
    clicked = opened + timedelta(minutes=1 + draws[3] * 29) if clicks and opened else None
    return Plan(timedelta(seconds=20 + draws[4] * 40), opened, clicked)


def apply_due_engagement(*, session: Session, now: datetime) -> int:
    """Report what the simulated recipients of the last days' test-mode campaign emails have
    done by `now`, through the Mailgun webhook's own handling. Returns how many events."""
    if not simulating(session=session):
        return 0
    rows = session.execute(
        select(Message, CampaignStep, Template.subject, ABVariant)
        .join(CampaignStep, CampaignStep.id == Message.step_id)
        .outerjoin(Template, Template.id == Message.template_id)
        .outerjoin(ABTest, ABTest.step_id == Message.step_id)
        .outerjoin(
            ABVariant, (ABVariant.test_id == ABTest.id) & (ABVariant.position == Message.variant)
        )
        .where(
            Message.provider == "sandbox",
            Message.channel == Channel.EMAIL.value,
            Message.sent_at >= now - WINDOW,
            Message.clicked_at.is_(None),
        )
    ).all()
    applied = 0
    for message, step, template_subject, variant in rows:
        offered = variant or step
        subject = (variant.subject if variant else "") or template_subject or ""
        plan = plan_for(
            message.id,
            greets="first_name" in subject,
            percent_off=offered.offer_value if offered.offer_kind == "percent_off" else None,
        )
        assert message.sent_at is not None  # the query asks for sent messages
        for kind, after, done in (
            ("delivered", plan.delivered, message.delivered_at),
            ("opened", plan.opened, message.opened_at),
            ("clicked", plan.clicked, message.clicked_at),
        ):
            if after is None or done is not None or message.sent_at + after > now:
                continue
            handle_mailgun_event(
                session=session,
                event_data={
                    "event": kind,
                    "id": f"simulated-{kind}-{message.id}",
                    "timestamp": (message.sent_at + after).timestamp(),
                    "recipient": message.to_address,
                    "user-variables": {"message_key": message.key},
                    "simulated": True,
                },
                now=now,
            )
            applied += 1
    return applied
