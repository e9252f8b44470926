"""The outbox: every send is a `messages` row before anything leaves.

A running campaign's step becomes messages on the day before it is due (one per reachable
member, keyed by campaign, step, customer and channel, so doing it twice adds nothing), each
waiting until the step's local time in its recipient's own time zone. Workers then claim due
messages in batches: the claim is one UPDATE … RETURNING over rows locked with SKIP LOCKED on
PostgreSQL (SQLite has one writer at a time), so two workers never hold the same message.
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, ColumnElement, Select, and_, func, literal, or_, select, update
from sqlalchemy.orm import Session

from core import abtests, compliance
from core.campaigns import actions
from core.campaigns.holdout import held_out
from core.compliance.decision import reachable
from core.config import get_settings
from core.customers.contact_details import normalize_email, normalize_phone
from core.db import upsert
from core.infra import audit, events
from core.messaging import frequency, templates
from core.messaging.providers import ProviderUnavailable
from core.messaging.template_defaults import install_default_templates
from core.models import (
    ABTest,
    Action,
    ActionStatus,
    Audience,
    Campaign,
    CampaignStatus,
    CampaignStep,
    Channel,
    Customer,
    Message,
    MessageStatus,
    SegmentMember,
    StepStatus,
    Template,
    TestStatus,
)
from core.permissions import SYSTEM, Actor, Permission, authorize
from core.store_profile import get_store_profile

log = logging.getLogger(__name__)

LEAD = timedelta(days=1)
"""How long before a step's day its messages are written (the earliest time zone goes first)."""
INSERT_CHUNK = 5_000


TEST_PREFIX = "test:"


def message_key(campaign_id: int, step_id: int, customer_id: int, channel: str) -> str:
    return f"c{campaign_id}:s{step_id}:u{customer_id}:{channel}"


def is_test(message: Message) -> bool:
    return message.key.startswith(TEST_PREFIX)


def queue_test(
    *, session: Session, actor: Actor, template_id: int, to: str, now: datetime
) -> Message:
    """A test of a template to the person editing it (their own address or number), sent with
    the sample customer's details through the configured provider (or the sandbox)."""
    authorize(actor, Permission.RUN_CAMPAIGNS)
    template = templates.get_template(session=session, template_id=template_id)
    channel = Channel(template.channel)
    address = normalize_email(to) if channel == Channel.EMAIL else normalize_phone(to)
    message = Message(
        key=f"{TEST_PREFIX}{uuid.uuid4().hex}",
        template_id=template.id,
        channel=channel.value,
        to_address=address,
        status=MessageStatus.QUEUED,
        send_after=now,
    )
    session.add(message)
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        action="template.test_sent",
        entity_type="template",
        entity_id=template.id,
        changes={"to": address},
    )
    return message


@dataclass(frozen=True)
class Queued:
    step_id: int
    messages: int


def queue_due_steps(*, session: Session, now: datetime) -> list[Queued]:
    """Write the messages of every running campaign's steps that are due within `LEAD`.

    A campaign that messages approved actions only keeps its written steps open until their
    day has passed everywhere: an action approved after its step was written gets its message
    on the next call (the message key keeps each customer to one)."""
    store_zone = get_store_profile(session=session).zone
    horizon = (now + LEAD).astimezone(store_zone).date()
    still_open = and_(
        Campaign.audience == Audience.APPROVED,
        CampaignStep.day >= (now - LEAD).astimezone(store_zone).date(),
    )
    steps = session.scalars(
        select(CampaignStep)
        .join(Campaign)
        .where(
            Campaign.status == CampaignStatus.RUNNING,
            or_(CampaignStep.status == StepStatus.PLANNED, still_open),
            CampaignStep.day <= horizon,
        )
        .order_by(CampaignStep.day, CampaignStep.local_time)
    ).all()
    return [
        queue_step(session=session, step=step, now=now, store_zone=store_zone) for step in steps
    ]


def queue_step(
    *, session: Session, step: CampaignStep, now: datetime, store_zone: ZoneInfo
) -> Queued:
    """Write the step's messages: one per reachable customer of its audience, the control group
    as held-out rows; when the step is A/B tested, each with its variant's send, and none yet
    for the customers kept for the winner (`queue_rollout` writes theirs)."""
    campaign = step.campaign
    test = abtests.test_of_step(session=session, step_id=step.id)
    sends = _Sends(session, campaign, step, test)
    today = now.astimezone(store_zone).date()
    recipients = session.execute(
        _recipients(session, campaign, step)
        .add_columns(Customer.email, Customer.phone, Customer.timezone)
        .where(*(reachable(channel, today) for channel in sends.channels))
    ).all()
    zones: dict[str | None, ZoneInfo] = {None: store_zone}
    rows = []
    day_start = datetime.combine(step.day, sends.step.local_time, store_zone)
    planned = frequency.planned_around(
        session=session,
        customer_ids=[r.id for r in recipients],
        first=day_start - timedelta(hours=12),
        last=day_start + timedelta(hours=12),
    )
    policy = compliance.get_policy(session=session)
    for customer_id, action_id, email, phone, zone_name in recipients:
        held = held_out(campaign.id, customer_id, campaign.control_percent)
        send = sends.step if held else sends.for_customer(customer_id)
        if send is None:
            continue  # kept for the winner
        zone = zones.get(zone_name) or zones.setdefault(zone_name, zone_or(zone_name, store_zone))
        due = datetime.combine(step.day, send.local_time, zone)
        counts = planned.setdefault(customer_id, Counter())
        capped = not held and frequency.over_cap(policy, counts, send.channel)
        if not capped and not held:
            counts[send.channel] += 1
        status = (
            MessageStatus.HELD_OUT
            if held
            else MessageStatus.SUPPRESSED
            if capped
            else MessageStatus.QUEUED
        )
        rows.append(
            {
                "key": message_key(campaign.id, step.id, customer_id, send.channel),
                "campaign_id": campaign.id,
                "step_id": step.id,
                "customer_id": customer_id,
                "template_id": send.template_id,
                "variant": None if held else send.variant,
                "action_id": action_id,
                "channel": send.channel,
                "to_address": (email if send.channel == Channel.EMAIL else phone) or "",
                "status": status.value,
                "send_after": max(due, now),
                "attempts": 0,
                "subject": "",
                "segments": 0,
                "cost_cents": 0.0,
                "error": capped or "",
                "failed_at": now if capped else None,
                "created_at": now,
            }
        )
    # executemany: SQLAlchemy batches the rows under each driver's parameter limit.
    insert = upsert(session)(Message).on_conflict_do_nothing()
    for start in range(0, len(rows), INSERT_CHUNK):
        session.execute(insert, rows[start : start + INSERT_CHUNK])
    step.status = StepStatus.QUEUED
    session.flush()
    log.info("step queued", extra={"step_id": step.id, "messages": len(rows)})
    return Queued(step.id, len(rows))


@dataclass(frozen=True)
class _Send:
    channel: str
    local_time: time
    template_id: int | None
    variant: int | None


class _Sends:
    """What a step sends each customer: the step's own send, or, when it is tested, the
    variant drawn for them (the winner for those kept for it, once there is one)."""

    def __init__(
        self, session: Session, campaign: Campaign, step: CampaignStep, test: ABTest | None
    ) -> None:
        self.test = test
        templates_by_channel: dict[str, int | None] = {}

        def template_for(template_id: int | None, channel: str) -> int | None:
            if template_id is not None:
                return template_id
            if channel not in templates_by_channel:
                found = default_template(
                    session=session, campaign_type=campaign.type, channel=channel
                )
                templates_by_channel[channel] = found.id if found else None
            return templates_by_channel[channel]

        self.step = _Send(
            step.channel,
            time.fromisoformat(step.local_time),
            template_for(step.template_id, step.channel),
            None,
        )
        self.variants = [
            _Send(
                v.channel,
                time.fromisoformat(v.local_time),
                template_for(v.template_id, v.channel),
                v.position,
            )
            for v in (test.variants if test else [])
        ]
        self.weights = test.weights if test else []
        self.channels = sorted({s.channel for s in [self.step, *self.variants]})
        decided = test is not None and test.status in (TestStatus.DECIDED, TestStatus.ROLLED_OUT)
        self.winner = (
            self.variants[test.winner] if decided and test and test.winner is not None else None
        )

    def for_customer(self, customer_id: int) -> _Send | None:
        test = self.test
        if test is None:
            return self.step
        if abtests.in_test(test.id, customer_id, test.test_percent):
            return self.variants[abtests.variant_for(test.id, customer_id, self.weights)]
        return self.winner


def queue_rollout(*, session: Session, test_id: int, now: datetime) -> int:
    """Send a decided test's winner to the part of its step's audience kept for it: their
    messages are written once (the test row is locked, its status moves on in the same
    transaction, and message keys are unique), then sent like any other. Returns how many were
    written; 0 when the test is not waiting for a rollout."""
    test = abtests.locked_test(session=session, test_id=test_id)
    if test.status != TestStatus.DECIDED or test.test_percent >= 100:
        return 0
    step = session.get_one(CampaignStep, test.step_id)
    count = select(func.count()).where(Message.step_id == step.id)
    before = session.scalar(count) or 0
    queue_step(
        session=session, step=step, now=now, store_zone=get_store_profile(session=session).zone
    )
    written = (session.scalar(count) or 0) - before
    test.status, test.rolled_out_at = TestStatus.ROLLED_OUT, now
    events.record(
        session=session,
        type="abtest.rolled_out",
        campaign_id=test.campaign_id,
        occurred_at=now,
        data={"test_id": test.id, "winner": test.winner, "messages": written},
    )
    return written


def _recipients(session: Session, campaign: Campaign, step: CampaignStep) -> Select[int, int]:
    """Customer ids (and the action each message carries out) for a step: its segment's members
    less the excluded segments and the customers whose action staff skipped; or, when the
    campaign messages approved actions only, the customers of this step's approved actions
    (an action done already — delivered, or a call staff made — needs no message)."""
    run = actions.latest_run(session=session, campaign_id=campaign.id)
    of_run = and_(Action.campaign_id == campaign.id, Action.run_id == (run or ""))
    if campaign.audience == Audience.APPROVED:
        return (
            select(Customer.id, Action.id)
            .join(Action, Action.customer_id == Customer.id)
            .where(
                of_run,
                Action.step_id == step.id,
                Action.status == ActionStatus.APPROVED,
            )
        )
    left_out = select(SegmentMember.customer_id).where(
        SegmentMember.segment_id.in_(campaign.excluded_segment_ids or [-1])
    )
    skipped = select(Action.customer_id).where(of_run, Action.status == ActionStatus.SKIPPED)
    return (
        select(Customer.id, literal(None, BigInteger).label("action_id"))
        .join(SegmentMember, SegmentMember.customer_id == Customer.id)
        .where(
            SegmentMember.segment_id == step.segment_id,
            Customer.id.not_in(left_out),
            Customer.id.not_in(skipped),
        )
    )


def default_template(*, session: Session, campaign_type: str, channel: str) -> Template | None:
    """The store's template for this type and channel, installing the defaults when the store
    has none yet."""
    found = templates.default_template(
        session=session, campaign_type=campaign_type, channel=channel
    )
    if found is None and install_default_templates(session=session, actor=SYSTEM):
        found = templates.default_template(
            session=session, campaign_type=campaign_type, channel=channel
        )
    return found


def zone_or(name: str | None, fallback: ZoneInfo) -> ZoneInfo:
    try:
        return ZoneInfo(name) if name else fallback
    except (KeyError, ValueError):
        return fallback


def _due(now: datetime, channel: Channel | None) -> list[ColumnElement[bool]]:
    running = select(Campaign.id).where(Campaign.status == CampaignStatus.RUNNING)
    conditions = [
        Message.status == MessageStatus.QUEUED,
        Message.send_after <= now,
        or_(Message.campaign_id.is_(None), Message.campaign_id.in_(running)),
    ]
    if channel is not None:
        conditions.append(Message.channel == channel.value)
    return conditions


def claim(
    *,
    session: Session,
    worker: str,
    limit: int,
    now: datetime,
    channel: Channel | None = None,
) -> list[int]:
    """Mark up to `limit` due messages as being sent by `worker`; their ids, oldest first.
    Messages of paused or stopped campaigns are not due, so a pause stops new claims at once."""
    due = (
        select(Message.id)
        .where(*_due(now, channel))
        .order_by(Message.send_after, Message.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    claimed = session.scalars(
        update(Message)
        .where(Message.id.in_(due.scalar_subquery()))
        .values(
            status=MessageStatus.SENDING,
            claimed_by=worker,
            claimed_at=now,
            provider=None,  # set again once the sender accepts it (see `frequency`)
            attempts=Message.attempts + 1,
        )
        .returning(Message.id)
        .execution_options(synchronize_session=False)
    ).all()
    return sorted(claimed)


def count_due(*, session: Session, now: datetime) -> int:
    return session.execute(
        select(func.count()).select_from(Message).where(*_due(now, None))
    ).scalar_one()


def release_stale_claims(
    *,
    session: Session,
    now: datetime,
    find: Callable[[Message], str | None] | None = None,
) -> int:
    """Settle messages claimed by a worker that died (claimed longer ago than
    SEND_CLAIM_LEASE_SECONDS). The worker may have died after the provider took a message and
    before recording it, so each is first looked up at the provider (`find`: its id there, or
    None): found ones are recorded as sent, the others go back in the queue. A message the
    provider cannot be asked about now stays claimed until the next try. Returns how many were
    settled."""
    lease = timedelta(seconds=get_settings().send_claim_lease_seconds)
    stale = session.scalars(
        select(Message)
        .where(Message.status == MessageStatus.SENDING, Message.claimed_at < now - lease)
        .with_for_update(skip_locked=True)
    ).all()
    settled = 0
    for message in stale:
        try:
            provider_id = find(message) if find else None
        except ProviderUnavailable:
            continue
        message.claimed_by, settled = None, settled + 1
        if provider_id is None:
            message.status, message.claimed_at = MessageStatus.QUEUED, None
            continue
        sent_at = message.claimed_at or now  # the provider took it while it was claimed
        message.status, message.sent_at = MessageStatus.SENT, sent_at
        message.provider_message_id = provider_id
        events.record(
            session=session,
            type="message.sent",
            customer_id=message.customer_id,
            campaign_id=message.campaign_id,
            message_id=message.id,
            occurred_at=sent_at,
            data={"channel": message.channel, "recovered": True},
        )
    if settled:
        log.warning("settled stale claims", extra={"messages": settled})
    return settled
