"""Six months of the demo store's past campaigns, so Campaigns, Sends and Actions have something
real to show on a first visit.

Each month one completed campaign went to one of the demo's playbook segments: its messages went
to the members who could be reached on the day (consent, 21+, not suppressed), through the
"demo" provider, with deliveries, opens, clicks, bounces and unsubscribes drawn from one seeded
generator at rates like a liquor store's. What follows from them is applied for real: a hard
bounce suppresses the address, an unsubscribe withdraws consent (recorded with its source), so
the store's consent and the history agree. Every such campaign says it was simulated.

Two of them A/B tested their email: Thanksgiving's subject line (B's recipients clicked three
times as often: a clear winner) and Summer rosé's 10 % against 15 % off (no real difference:
inconclusive), judged by the same statistics as a live test.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from core import abtests
from core.campaigns import actions
from core.campaigns.holdout import held_out
from core.campaigns.plans import describe_offer
from core.compliance.decision import reachable
from core.customers.totals import refresh_customer_totals
from core.infra import events
from core.messaging import suppressions
from core.messaging.offer_codes import offer_code
from core.messaging.templates import default_template
from core.messaging.variables import offer_key
from core.models import (
    ABTest,
    ABVariant,
    Action,
    Campaign,
    CampaignStatus,
    CampaignStep,
    CampaignType,
    Channel,
    Customer,
    Event,
    Message,
    MessageStatus,
    Metric,
    Order,
    PlanSource,
    Segment,
    SegmentMember,
    StepStatus,
    SuppressionReason,
)
from core.permissions import SYSTEM
from core.segments import playbooks
from core.store_profile import get_store_profile

PROVIDER = "demo"
"""The provider name of simulated sends: neither a real provider nor the sandbox."""
NOTE = "Demo history: simulated when the demo store was loaded; nobody was messaged."
RATES = {
    Channel.EMAIL.value: {"bounce": 0.012, "open": 0.38, "click": 0.11, "unsubscribe": 0.004},
    Channel.SMS.value: {"bounce": 0.008, "open": 0.0, "click": 0.09, "unsubscribe": 0.012},
}
"""Share of messages that bounce; of delivered ones, opened; of opened (email) or delivered
(texts), clicked; and of delivered ones, unsubscribed (a link, or a STOP reply)."""
COST_CENTS = {Channel.EMAIL.value: 0.08, Channel.SMS.value: 0.79}
HOLDOUT_PERCENT = 10
REDEEMED = 0.35
"""Share of clicks followed within days by an order at the till with the message's code."""
BASKET_CENTS = 4_500


@dataclass(frozen=True)
class PastTest:
    """An A/B test of a past campaign's email step: B changes what `changes` says, and its
    recipients click `click_lift` times as often as A's (1: no real difference)."""

    changes: dict[str, object]
    click_lift: float
    min_effect: float = 0.08
    baseline: float = 0.05


@dataclass(frozen=True)
class Past:
    name: str
    type: CampaignType
    playbook: str
    days_ago: int
    offer: tuple[str, float, str | None]
    channels: tuple[str, ...]
    test: PastTest | None = None


PAST = (
    Past(
        "Summer rosé",
        CampaignType.PROMOTION,
        "lapsed-wine",
        170,
        ("percent_off", 10, "wine"),
        ("email",),
        PastTest({"offer_value": 15.0, "offer_description": "15% off wine"}, click_lift=1.0),
    ),
    Past(
        "Fourth of July beer",
        CampaignType.HOLIDAY,
        "weekend-craft-beer",
        140,
        ("amount_off", 5, "beer"),
        ("email", "sms"),
    ),
    Past(
        "We miss you", CampaignType.WIN_BACK, "win-back", 110, ("percent_off", 15, None), ("email",)
    ),
    Past(
        "First pick: fall releases",
        CampaignType.NEW_PRODUCT,
        "champions",
        80,
        ("early_access", 0, "spirits"),
        ("email",),
    ),
    Past(
        "Halloween party mixers",
        CampaignType.EVENT,
        "weekend-craft-beer",
        50,
        ("bundle", 8, "mixers"),
        ("email", "sms"),
    ),
    Past(
        "Thanksgiving table",
        CampaignType.HOLIDAY,
        "lapsed-wine",
        20,
        ("percent_off", 15, "wine"),
        ("email", "sms"),
        PastTest(
            {"subject": "{{ first_name }}, your Thanksgiving wine is 15% off"}, click_lift=3.0
        ),
    ),
)


def add_campaign_history(*, session: Session, seed: int, today: date, now: datetime) -> int:
    """Write the demo's past campaigns (once: a store that has campaigns gets none). Returns
    how many messages they sent."""
    if session.scalar(select(Campaign.id).limit(1)) is not None:
        return 0
    rng = np.random.default_rng(seed + 7)
    zone = get_store_profile(session=session).zone
    segments = {
        playbook.key: segment
        for segment in session.scalars(select(Segment))
        if (playbook := playbooks.for_segment_name(segment.name)) is not None
    }
    written = 0
    tests: list[int] = []
    for past in PAST:
        segment = segments.get(past.playbook)
        if segment is None:
            continue
        day = today - timedelta(days=past.days_ago)
        start = datetime.combine(day, time(9), zone)
        kind, value, category = past.offer
        campaign = Campaign(
            name=past.name,
            type=past.type,
            status=CampaignStatus.COMPLETED,
            holdout_percent=HOLDOUT_PERCENT,
            status_note=NOTE,
            segment_ids=[segment.id],
            channels=list(past.channels),
            starts_at=start,
            ends_at=start + timedelta(days=6),
            plan_source=PlanSource.HEURISTIC,
            plan_note=NOTE,
            builder_step=4,
            created_at=start - timedelta(days=3),
            scheduled_at=start - timedelta(days=2),
            started_at=start,
            completed_at=start + timedelta(days=6),
        )
        for position, channel in enumerate(past.channels, start=1):
            campaign.steps.append(
                CampaignStep(
                    position=position,
                    day=day + timedelta(days=2 * (position - 1)),
                    local_time="10:30" if channel == Channel.EMAIL.value else "16:00",
                    segment_id=segment.id,
                    channel=channel,
                    offer_kind=kind,
                    offer_value=value,
                    offer_category=category,
                    offer_description=describe_offer(kind, value, category),
                    angle=past.name,
                    status=StepStatus.QUEUED,
                )
            )
        session.add(campaign)
        session.flush()
        for step in campaign.steps:
            test = _test_of(session, step, past.test) if step.position == 1 else None
            lift = past.test.click_lift if test and past.test else 1.0
            written += _send_step(
                session, rng, campaign, step, test, click_lift=lift, zone=zone, now=now
            )
            if test is not None:
                tests.append(test.id)
        latest = campaign
    if written:
        _actions_of(session, latest, now)
        refresh_customer_totals(session=session, customer_ids=_redeem_codes(session, rng, now))
    for test_id in tests:  # judged once the purchases that followed are in
        abtests.judge(session=session, test_id=test_id, now=now)
    return written


def _test_of(session: Session, step: CampaignStep, past: PastTest | None) -> ABTest | None:
    """The step's A/B test, A as planned and B with the past test's change, 50/50."""
    if past is None:
        return None
    variant = {
        "channel": step.channel,
        "local_time": step.local_time,
        "offer_kind": step.offer_kind,
        "offer_value": step.offer_value,
        "offer_category": step.offer_category,
        "offer_description": step.offer_description,
    }
    test = ABTest(
        campaign_id=step.campaign_id,
        step_id=step.id,
        metric=Metric.CLICK_RATE,
        baseline_rate=past.baseline,
        min_effect=past.min_effect,
        sample_per_variant=abtests.sample_size(past.baseline, past.min_effect),
        wait_hours=48,
        created_at=step.campaign.created_at,
        variants=[
            ABVariant(position=0, weight=50, **variant),
            ABVariant(position=1, weight=50, **{**variant, **past.changes}),
        ],
    )
    session.add(test)
    session.flush()
    return test


def _redeem_codes(session: Session, rng: np.random.Generator, now: datetime) -> list[int]:
    """Some of the customers who clicked came in within four days and paid with the message's
    code: an order each (the offer's discount taken off), which the attribution credits with
    certainty. Returns the customers who bought."""
    clicks = session.execute(
        select(
            Message.customer_id,
            Message.clicked_at,
            Message.offer_code,
            CampaignStep.offer_kind,
            func.coalesce(ABVariant.offer_value, CampaignStep.offer_value),
        )
        .join(CampaignStep, CampaignStep.id == Message.step_id)
        .outerjoin(ABTest, ABTest.step_id == Message.step_id)
        .outerjoin(
            ABVariant, (ABVariant.test_id == ABTest.id) & (ABVariant.position == Message.variant)
        )
        .where(Message.provider == PROVIDER, Message.clicked_at.is_not(None))
        .order_by(Message.id)
    ).all()
    chosen = [c for c, draw in zip(clicks, rng.random(len(clicks)), strict=True) if draw < REDEEMED]
    totals = np.round(rng.lognormal(np.log(BASKET_CENTS), 0.5, len(chosen))).astype(int)
    delays = rng.uniform(2, 96, len(chosen))
    orders = []
    for click, total, hours in zip(chosen, totals.tolist(), delays.tolist(), strict=True):
        customer_id, clicked_at, code, kind, value = click
        assert clicked_at is not None  # the query asks for clicks
        discount = {
            "percent_off": round(total * value / 100),
            "amount_off": round(value * 100),
        }.get(kind, 0)
        orders.append(
            {
                "external_id": f"demo-redeemed-{code}",
                "customer_id": customer_id,
                "ordered_at": min(clicked_at + timedelta(hours=hours), now),
                "total_cents": total,
                "discount_cents": min(discount, total // 2),
                "channel": "in_store",
                "promo_code": code,
                "created_at": now,
            }
        )
    if orders:
        session.execute(insert(Order), orders)
    return sorted({o["customer_id"] for o in orders})


def _provider_events(session: Session, campaign_id: int, step_id: int, channel: str) -> None:
    """What the provider would have reported of the step's messages, as its webhooks record
    it: delivered, opened, clicked, failed (a bounce), each at the message's own time."""
    reported = (
        ("delivered", Message.delivered_at),
        ("opened", Message.opened_at),
        ("clicked", Message.clicked_at),
        ("failed", Message.failed_at),
    )
    rows = [
        {
            "type": f"{channel}.{kind}",
            "occurred_at": at,
            "customer_id": customer_id,
            "campaign_id": campaign_id,
            "message_id": message_id,
            "data": {"note": NOTE},
        }
        for kind, column in reported
        for message_id, customer_id, at in session.execute(
            select(Message.id, Message.customer_id, column).where(
                Message.step_id == step_id, column.is_not(None)
            )
        )
    ]
    if rows:
        session.execute(insert(Event), rows)


def _actions_of(session: Session, campaign: Campaign, now: datetime) -> None:
    """The latest campaign's ranked actions, done where the customer was messaged, with how far
    each went (delivered, opened, clicked)."""
    run = actions.generate_actions(session=session, actor=SYSTEM, campaign_id=campaign.id, now=now)
    reached = session.execute(
        select(Action.id, Message.delivered_at, Message.opened_at, Message.clicked_at)
        .join(Message, (Message.customer_id == Action.customer_id))
        .where(Action.run_id == run.run_id, Message.campaign_id == campaign.id)
    ).all()
    for action_id, delivered, opened, clicked in reached:
        for outcome, when in (("delivered", delivered), ("opened", opened), ("clicked", clicked)):
            if when is not None:
                actions.record_outcome(
                    session=session, action_id=action_id, outcome=outcome, now=when
                )


def _send_step(
    session: Session,
    rng: np.random.Generator,
    campaign: Campaign,
    step: CampaignStep,
    test: ABTest | None,
    *,
    click_lift: float,
    zone: ZoneInfo,
    now: datetime,
) -> int:
    channel = step.channel
    address = Customer.email if channel == Channel.EMAIL.value else Customer.phone
    recipients = session.execute(
        select(Customer.id, address)
        .join(SegmentMember, SegmentMember.customer_id == Customer.id)
        .where(SegmentMember.segment_id == step.segment_id, reachable(channel, step.day))
        .order_by(Customer.id)
    ).all()
    template = default_template(session=session, campaign_type=campaign.type, channel=channel)
    sent_at = datetime.combine(step.day, time.fromisoformat(step.local_time), zone)
    rates = RATES[channel]
    n = len(recipients)
    draw = rng.random((n, 4))
    held = np.array(
        [held_out(campaign.id, c, campaign.control_percent) for c, _ in recipients], dtype=bool
    )
    variant = np.array(
        [abtests.variant_for(test.id, c, test.weights) if test else 0 for c, _ in recipients],
        dtype=int,
    )
    lift = np.where(variant == 1, click_lift, 1.0)
    bounced = ~held & (draw[:, 0] < rates["bounce"])
    opened = ~bounced & (draw[:, 1] < rates["open"])
    clicked = (
        ~bounced & (draw[:, 2] < rates["click"] * lift) & (opened | (channel == Channel.SMS.value))
    )
    opened |= clicked & (channel == Channel.EMAIL.value)
    unsubscribed = ~bounced & (draw[:, 3] < rates["unsubscribe"])
    minutes = rng.integers(1, 60 * 48, size=(n, 2))
    rows = []
    for i, (customer_id, to_address) in enumerate(recipients):
        meant = {
            "key": f"demo:c{campaign.id}:s{step.id}:u{customer_id}:{channel}",
            "campaign_id": campaign.id,
            "step_id": step.id,
            "customer_id": customer_id,
            "template_id": template.id if template else None,
            "channel": channel,
            "to_address": to_address,
            "send_after": sent_at,
            "created_at": sent_at - timedelta(days=1),
        }
        if held[i]:  # the control group: written, never sent
            rows.append({**meant, "status": MessageStatus.HELD_OUT, "variant": None})
            continue
        opened_at = sent_at + timedelta(minutes=int(minutes[i, 0])) if opened[i] else None
        rows.append(
            {
                **meant,
                "status": MessageStatus.BOUNCED if bounced[i] else MessageStatus.DELIVERED,
                "variant": int(variant[i]) if test else None,
                "attempts": 1,
                "provider": PROVIDER,
                "cost_cents": COST_CENTS[channel],
                "sent_at": sent_at,
                "delivered_at": None if bounced[i] else sent_at + timedelta(seconds=20),
                "opened_at": opened_at,
                "clicked_at": (
                    (opened_at or sent_at) + timedelta(minutes=int(minutes[i, 1]) % 90 + 1)
                    if clicked[i]
                    else None
                ),
                "failed_at": sent_at + timedelta(seconds=20) if bounced[i] else None,
                "error": "mailbox does not exist" if bounced[i] else "",
            }
        )
    if rows:
        session.execute(insert(Message), rows)
    ids = dict(
        session.execute(
            select(Message.customer_id, Message.id).where(Message.step_id == step.id)
        ).all()
    )
    key = offer_key()
    sent = [ids[int(c)] for (c, _), kept in zip(recipients, held, strict=True) if not kept]
    if sent:
        session.execute(
            update(Message), [{"id": i, "offer_code": offer_code(key, i)} for i in sent]
        )
    _provider_events(session, campaign.id, step.id, channel)
    reached = [(int(c), str(a)) for c, a in recipients]  # reachable: the address is there
    for i in np.flatnonzero(bounced).tolist():
        customer, to = reached[i]
        suppressions.suppress(
            session=session,
            channel=channel,
            address=to,
            reason=SuppressionReason.HARD_BOUNCE,
            detail=NOTE,
            message_id=ids[customer],
        )
    for i in np.flatnonzero(unsubscribed).tolist():
        customer, to = reached[i]
        suppressions.opt_out(
            session=session,
            channel=channel,
            address=to,
            reason=SuppressionReason.UNSUBSCRIBED
            if channel == Channel.EMAIL.value
            else SuppressionReason.STOP,
            source="demo history",
            message_id=ids[customer],
            now=sent_at + timedelta(hours=3),
        )
    events.record(
        session=session,
        type="campaign_completed",
        campaign_id=campaign.id,
        occurred_at=campaign.completed_at or now,
        data={"note": NOTE, "messages": n - int(held.sum())},
    )
    return n - int(held.sum())
