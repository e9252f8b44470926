"""Campaigns: details, audience, plan, and a lifecycle kept by an explicit state machine.

    draft ──schedule──▶ scheduled ──start (by itself at starts_at)──▶ running ◀──▶ paused
      ▲                    │                                             │
      └────unschedule──────┘                                  complete ──▶ completed
    archive: from any status but running

Every transition is checked against TRANSITIONS, audited, and recorded as an event. Scheduled
campaigns are started by `start_due_campaigns`, which the clock calls every minute (and an RQ
scheduled job calls at the exact start time when Redis is configured); starting twice is
harmless, because only a scheduled campaign can start.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from core import audit, events
from core.compliance import reachable, reachable_anyhow
from core.errors import Conflict, NotFound, ValidationError
from core.models import (
    Campaign,
    CampaignStatus,
    CampaignStep,
    CampaignType,
    Channel,
    Customer,
    Message,
    MessageStatus,
    PlanSource,
    Segment,
    SegmentMember,
)
from core.permissions import Actor, Permission, authorize
from core.planner import PlanOutcome, build_context
from core.plans import Plan, PlanContext, check_plan
from core.store import get_store_profile

S = CampaignStatus
TRANSITIONS: dict[CampaignStatus, frozenset[CampaignStatus]] = {
    S.DRAFT: frozenset({S.SCHEDULED, S.RUNNING, S.ARCHIVED}),
    S.SCHEDULED: frozenset({S.DRAFT, S.RUNNING, S.ARCHIVED}),
    S.RUNNING: frozenset({S.PAUSED, S.COMPLETED}),
    S.PAUSED: frozenset({S.RUNNING, S.ARCHIVED}),
    S.COMPLETED: frozenset({S.ARCHIVED}),
    S.ARCHIVED: frozenset(),
}
VERBS = {
    S.SCHEDULED: "schedule", S.RUNNING: "start", S.PAUSED: "pause", S.COMPLETED: "complete",
    S.ARCHIVED: "archive", S.DRAFT: "unschedule",
}  # fmt: skip
EDITABLE = frozenset({S.DRAFT})
MAX_DAYS = 31
TYPE_LABELS = {
    CampaignType.PROMOTION: "Promotion", CampaignType.WIN_BACK: "Win-back",
    CampaignType.NEW_PRODUCT: "New product", CampaignType.EVENT: "Event",
    CampaignType.HOLIDAY: "Holiday", CampaignType.RE_ENGAGEMENT: "Re-engagement",
}  # fmt: skip


def get_campaign(*, session: Session, campaign_id: int) -> Campaign:
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(f"There is no campaign #{campaign_id}.")
    return campaign


def list_campaigns(*, session: Session, status: CampaignStatus | None = None) -> list[Campaign]:
    query = select(Campaign).order_by(Campaign.created_at.desc(), Campaign.id.desc())
    if status is not None:
        query = query.where(Campaign.status == status)
    return list(session.scalars(query))


# --- details and audience ------------------------------------------------------------------


@dataclass(frozen=True)
class Details:
    name: str
    type: CampaignType = CampaignType.PROMOTION
    goal: str = ""
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    segment_ids: tuple[int, ...] = ()
    excluded_segment_ids: tuple[int, ...] = ()
    channels: tuple[str, ...] = (Channel.EMAIL.value,)
    budget_cents: int | None = None
    max_discount_percent: int = 25


def create_campaign(*, session: Session, actor: Actor, details: Details) -> Campaign:
    """A new draft. Only the name is required now; the rest is checked step by step."""
    authorize(actor, Permission.RUN_CAMPAIGNS)
    campaign = Campaign(created_by=actor.user_id, status=S.DRAFT)
    _apply(session, campaign, details)
    session.add(campaign)
    session.flush()
    audit.record(
        session=session, actor=actor, action="campaign.create", entity_type="campaign",
        entity_id=campaign.id, changes={"name": campaign.name},
    )  # fmt: skip
    return campaign


def update_campaign(
    *, session: Session, actor: Actor, campaign_id: int, details: Details, builder_step: int = 0
) -> Campaign:
    """Save a draft's details (the builder saves at every step)."""
    authorize(actor, Permission.RUN_CAMPAIGNS)
    campaign = get_campaign(session=session, campaign_id=campaign_id)
    _require_editable(campaign)
    before = {"name": campaign.name, "segments": list(campaign.segment_ids)}
    _apply(session, campaign, details)
    campaign.builder_step = max(campaign.builder_step, builder_step)
    audit.record(
        session=session, actor=actor, action="campaign.update", entity_type="campaign",
        entity_id=campaign.id,
        changes={"before": before, "after": {"name": campaign.name,
                                             "segments": list(campaign.segment_ids)}},
    )  # fmt: skip
    return campaign


def _require_editable(campaign: Campaign) -> None:
    if campaign.status not in EDITABLE:
        hint = " Unschedule it first." if campaign.status == S.SCHEDULED else ""
        raise Conflict(f"“{campaign.name}” is {campaign.status}: only drafts can change.{hint}")


def _apply(session: Session, campaign: Campaign, details: Details) -> None:
    name = details.name.strip()
    if not name:
        raise ValidationError("A campaign needs a name.", field="name")
    if len(name) > 120:
        raise ValidationError("Keep the name under 120 characters.", field="name")
    channels = [Channel(c).value for c in dict.fromkeys(details.channels)]
    known = set(session.scalars(select(Segment.id)))
    for segment_id in (*details.segment_ids, *details.excluded_segment_ids):
        if segment_id not in known:
            raise ValidationError(f"There is no segment #{segment_id}.", field="segments")
    if set(details.segment_ids) & set(details.excluded_segment_ids):
        raise ValidationError("A segment cannot be both targeted and excluded.", field="segments")
    if details.budget_cents is not None and details.budget_cents < 0:
        raise ValidationError("The budget cannot be negative.", field="budget")
    if not 0 <= details.max_discount_percent <= 100:
        raise ValidationError("The discount limit is a percentage, 0 to 100.", field="discount")
    campaign.name = name
    campaign.type = CampaignType(details.type).value
    campaign.goal = details.goal.strip()
    campaign.starts_at, campaign.ends_at = details.starts_at, details.ends_at
    campaign.segment_ids = list(details.segment_ids)
    campaign.excluded_segment_ids = list(details.excluded_segment_ids)
    campaign.channels = channels
    campaign.budget_cents = details.budget_cents
    campaign.max_discount_percent = details.max_discount_percent


def details_of(campaign: Campaign) -> Details:
    return Details(
        name=campaign.name,
        type=CampaignType(campaign.type),
        goal=campaign.goal,
        starts_at=campaign.starts_at,
        ends_at=campaign.ends_at,
        segment_ids=tuple(campaign.segment_ids),
        excluded_segment_ids=tuple(campaign.excluded_segment_ids),
        channels=tuple(campaign.channels),
        budget_cents=campaign.budget_cents,
        max_discount_percent=campaign.max_discount_percent,
    )


@dataclass(frozen=True)
class Reach:
    members: int
    """Customers in the chosen segments, counted once."""
    excluded: int
    """Of those, left out by the excluded segments."""
    by_channel: dict[str, int]
    """Who may be messaged on each chosen channel (consent, age 21+, working address)."""
    reachable: int
    """Who may be messaged on at least one chosen channel."""

    @property
    def not_reachable(self) -> int:
        return self.members - self.excluded - self.reachable


def audience_reach(
    *,
    session: Session,
    segment_ids: tuple[int, ...] | list[int],
    excluded_segment_ids: tuple[int, ...] | list[int] = (),
    channels: tuple[str, ...] | list[str] = (Channel.EMAIL.value,),
    today: date,
) -> Reach:
    """How many customers the chosen segments hold, and how many of them may actually be
    reached, after exclusions and the compliance rules."""
    if not segment_ids:
        return Reach(0, 0, dict.fromkeys(channels, 0), 0)
    chosen = select(SegmentMember.customer_id).where(SegmentMember.segment_id.in_(segment_ids))
    left_out = select(SegmentMember.customer_id).where(
        SegmentMember.segment_id.in_(excluded_segment_ids or [-1])
    )

    def count(*conditions: Any) -> int:
        return session.scalar(
            select(func.count()).select_from(Customer).where(Customer.id.in_(chosen), *conditions)
        )

    kept = Customer.id.not_in(left_out)
    by_channel = {c: count(kept, reachable(c, today)) for c in channels}
    anyhow = count(kept, reachable_anyhow(channels, today))
    return Reach(count(), count(~kept), by_channel, anyhow)


# --- the plan ------------------------------------------------------------------------------


def plan_context(*, session: Session, campaign: Campaign, now: datetime) -> PlanContext:
    """What the planner needs for this campaign: its segments, dates, channels and limits."""
    start, end = campaign_days(session=session, campaign=campaign, now=now)
    return build_context(
        session=session,
        segment_ids=list(campaign.segment_ids),
        start=start,
        end=end,
        goal=campaign.goal,
        campaign_type=campaign.type,
        channels=tuple(campaign.channels),
        excluded_segment_ids=tuple(campaign.excluded_segment_ids),
        budget_cents=campaign.budget_cents,
        max_discount_percent=campaign.max_discount_percent,
        today=now.astimezone(get_store_profile(session=session).zone).date(),
    )


def campaign_days(*, session: Session, campaign: Campaign, now: datetime) -> tuple[date, date]:
    """The campaign's first and last day in the store's time zone (default: the 7 days after
    `now`)."""
    zone = get_store_profile(session=session).zone
    start = (campaign.starts_at or now + timedelta(days=1)).astimezone(zone).date()
    end = campaign.ends_at.astimezone(zone).date() if campaign.ends_at else start + timedelta(6)
    return start, end


def save_plan(
    *, session: Session, actor: Actor, campaign_id: int, outcome: PlanOutcome, now: datetime
) -> Campaign:
    """Replace a draft's steps with a checked plan and record where it came from."""
    authorize(actor, Permission.RUN_CAMPAIGNS)
    campaign = get_campaign(session=session, campaign_id=campaign_id)
    _require_editable(campaign)
    _replace_steps(session, campaign, outcome.plan)
    campaign.plan_source = outcome.source.value
    campaign.plan_note = "\n".join([outcome.note, *outcome.repairs])
    campaign.plan_meta = {**outcome.meta, "summary": outcome.plan.summary,
                          "repairs": outcome.repairs}  # fmt: skip
    campaign.builder_step = max(campaign.builder_step, 3)
    audit.record(
        session=session, actor=actor, action="campaign.plan", entity_type="campaign",
        entity_id=campaign.id,
        changes={"source": outcome.source.value, "sends": len(outcome.plan.sends),
                 "cost_usd": outcome.meta.get("cost_usd")},
    )  # fmt: skip
    if outcome.meta.get("cost_usd") is not None:
        events.record(
            session=session, type="plan_generated", campaign_id=campaign.id,
            user_id=actor.user_id, occurred_at=now, data={k: outcome.meta.get(k) for k in
                                         ("model", "prompt_tokens", "completion_tokens",
                                          "cost_usd", "cached")},
        )  # fmt: skip
    return campaign


def save_manual_plan(
    *, session: Session, actor: Actor, campaign_id: int, plan: Plan, now: datetime
) -> tuple[Campaign, list[str]]:
    """A plan edited by hand, checked like any other. Returns the campaign and the repairs."""
    campaign = get_campaign(session=session, campaign_id=campaign_id)
    context = plan_context(session=session, campaign=campaign, now=now)
    checked = check_plan(session=session, plan=plan, context=context)
    note = "Edited by hand."
    outcome = PlanOutcome(checked.plan, PlanSource.MANUAL, note, checked.repairs, {})
    saved = save_plan(
        session=session, actor=actor, campaign_id=campaign_id, outcome=outcome, now=now
    )
    return saved, checked.repairs


def _replace_steps(session: Session, campaign: Campaign, plan: Plan) -> None:
    campaign.steps.clear()
    session.flush()
    for position, send in enumerate(plan.sends, start=1):
        campaign.steps.append(
            CampaignStep(
                position=position,
                day=send.day,
                local_time=send.local_time,
                segment_id=send.segment_id,
                channel=send.channel.value,
                offer_kind=send.offer_kind.value,
                offer_value=send.offer_value,
                offer_category=send.offer_category,
                offer_description=send.offer_description,
                angle=send.angle,
                expected_reach=send.expected_reach,
                expected_cost_cents=send.expected_cost_cents,
            )
        )
    session.flush()


def plan_of(campaign: Campaign) -> Plan | None:
    """The campaign's steps as a Plan (for editing and re-checking)."""
    if not campaign.steps:
        return None
    return Plan.model_validate(
        {
            "summary": campaign.plan_meta.get("summary", ""),
            "sends": [
                {
                    "day": step.day, "local_time": step.local_time,
                    "segment_id": step.segment_id or 0, "channel": step.channel,
                    "offer_kind": step.offer_kind, "offer_value": step.offer_value,
                    "offer_category": step.offer_category,
                    "offer_description": step.offer_description, "angle": step.angle,
                    "expected_reach": step.expected_reach,
                    "expected_cost_cents": step.expected_cost_cents,
                }
                for step in campaign.steps
            ],
        }
    )  # fmt: skip


# --- readiness and the lifecycle -----------------------------------------------------------


BUILDER_STEPS = ("Details", "Audience", "Strategy", "Review & schedule")


def problems(*, session: Session, campaign: Campaign, step: int, now: datetime) -> list[str]:
    """What stops a draft from passing builder step `step` (1–4) at `now`; empty when it may
    go on."""
    found: list[str] = []
    if step >= 1:
        found += _detail_problems(campaign)
    if step >= 2:
        found += _audience_problems(session, campaign, now.date())
    if step >= 3 and not campaign.steps:
        found.append("Make a plan: ask the planner, or add sends by hand.")
    if step >= 4 and campaign.steps:
        start, end = campaign_days(session=session, campaign=campaign, now=now)
        outside = [s.position for s in campaign.steps if not start <= s.day <= end]
        if outside:
            found.append(f"Sends {outside} fall outside the campaign's dates: plan again.")
    emails = step >= 4 and Channel.EMAIL.value in campaign.channels
    if emails and not get_store_profile(session=session).is_complete:
        found.append(
            "Fill in the store's postal address on the Store profile page: every marketing "
            "email must show it."
        )
    return found


def _detail_problems(campaign: Campaign) -> list[str]:
    found = []
    if campaign.starts_at is None or campaign.ends_at is None:
        found.append("Set the start and end.")
    elif campaign.ends_at <= campaign.starts_at:
        found.append("The campaign must end after it starts.")
    elif campaign.ends_at - campaign.starts_at > timedelta(days=MAX_DAYS):
        found.append(f"Keep a campaign to {MAX_DAYS} days or fewer.")
    return found


def _audience_problems(session: Session, campaign: Campaign, today: date) -> list[str]:
    if not campaign.segment_ids:
        return ["Pick at least one segment."]
    if not campaign.channels:
        return ["Pick at least one channel."]
    reach = audience_reach(
        session=session,
        segment_ids=campaign.segment_ids,
        excluded_segment_ids=campaign.excluded_segment_ids,
        channels=campaign.channels,
        today=today,
    )
    if reach.reachable == 0:
        return ["Nobody in these segments can be messaged on the chosen channels."]
    return []


def transition(
    *,
    session: Session,
    actor: Actor,
    campaign_id: int,
    to: CampaignStatus,
    note: str = "",
    now: datetime,
) -> Campaign:
    """Move a campaign to status `to`, if the state machine allows it; audited."""
    authorize(actor, Permission.RUN_CAMPAIGNS)
    campaign = session.scalar(select(Campaign).where(Campaign.id == campaign_id).with_for_update())
    if campaign is None:
        raise NotFound(f"There is no campaign #{campaign_id}.")
    current = CampaignStatus(campaign.status)
    if to not in TRANSITIONS[current]:
        allowed = ", ".join(VERBS[s] for s in sorted(TRANSITIONS[current])) or "nothing"
        raise Conflict(
            f"Cannot {VERBS[to]} “{campaign.name}”: it is {current} (it can: {allowed})."
        )
    if to in (S.SCHEDULED, S.RUNNING) and current in (S.DRAFT, S.SCHEDULED):
        _check_ready(session, campaign, now, starting=to == S.RUNNING)
    campaign.status = to.value
    campaign.status_note = note
    stamp = {
        S.SCHEDULED: "scheduled_at", S.COMPLETED: "completed_at", S.ARCHIVED: "archived_at",
    }.get(to)  # fmt: skip
    if stamp:
        setattr(campaign, stamp, now)
    if to == S.RUNNING and campaign.started_at is None:
        campaign.started_at = now
    audit.record(
        session=session, actor=actor, action=f"campaign.{VERBS[to]}", entity_type="campaign",
        entity_id=campaign.id, changes={"from": current.value, "to": to.value, "note": note},
    )  # fmt: skip
    events.record(
        session=session, type=f"campaign_{to.value}", campaign_id=campaign.id,
        user_id=actor.user_id, occurred_at=now, data={"from": current.value, "note": note},
    )  # fmt: skip
    return campaign


def _check_ready(session: Session, campaign: Campaign, now: datetime, *, starting: bool) -> None:
    found = problems(session=session, campaign=campaign, step=4, now=now)
    if not starting and campaign.starts_at is not None and campaign.starts_at <= now:
        found.append("The start is in the past: pick a later start, or start it now.")
    if campaign.ends_at is not None and campaign.ends_at <= now:
        found.append("The campaign's end has passed.")
    if found:
        raise ValidationError(f"“{campaign.name}” is not ready: " + " ".join(found))


def start_now(*, session: Session, actor: Actor, campaign_id: int, now: datetime) -> Campaign:
    """Start a draft or scheduled campaign at once (its start moves to `now`)."""
    campaign = get_campaign(session=session, campaign_id=campaign_id)
    if campaign.status in (S.DRAFT, S.SCHEDULED) and (
        campaign.starts_at is None or campaign.starts_at > now
    ):
        campaign.starts_at = now
    return transition(session=session, actor=actor, campaign_id=campaign_id, to=S.RUNNING, now=now)


def start_due_campaigns(*, session: Session, actor: Actor, now: datetime) -> list[int]:
    """Start every scheduled campaign whose start has come. Returns their ids."""
    due = session.scalars(
        select(Campaign.id).where(Campaign.status == S.SCHEDULED, Campaign.starts_at <= now)
    ).all()
    started = []
    for campaign_id in due:
        try:
            transition(
                session=session, actor=actor, campaign_id=campaign_id, to=S.RUNNING, now=now,
                note="Started on schedule.",
            )  # fmt: skip
        except (Conflict, ValidationError) as exc:
            _back_to_draft(session, actor, campaign_id, str(exc), now)
            continue
        started.append(campaign_id)
    return started


def _back_to_draft(
    session: Session, actor: Actor, campaign_id: int, reason: str, now: datetime
) -> None:
    """A scheduled campaign that can no longer start (its segment emptied, its end passed)
    goes back to draft with the reason, rather than being retried every minute."""
    transition(
        session=session, actor=actor, campaign_id=campaign_id, to=S.DRAFT, now=now,
        note=f"Could not start on schedule: {reason}",
    )  # fmt: skip


def complete_finished_campaigns(*, session: Session, actor: Actor, now: datetime) -> list[int]:
    """Complete running campaigns whose last message is settled (every step written out and
    nothing waiting), or whose end has passed: what was still waiting then is cancelled.
    Returns their ids."""
    waiting = select(Message.campaign_id).where(
        Message.status.in_([MessageStatus.QUEUED, MessageStatus.SENDING]),
        Message.campaign_id.is_not(None),
    )
    unwritten = select(CampaignStep.campaign_id).where(CampaignStep.status == "planned")
    all_sent = and_(
        Campaign.id.in_(select(CampaignStep.campaign_id)),
        Campaign.id.not_in(unwritten),
        Campaign.id.not_in(waiting),
    )
    finished = session.execute(
        select(Campaign.id, Campaign.ends_at <= now).where(
            Campaign.status == S.RUNNING, or_(Campaign.ends_at <= now, all_sent)
        )
    ).all()
    for campaign_id, ended in finished:
        note = "Its last day has passed." if ended else "Its last message went out."
        transition(session=session, actor=actor, campaign_id=campaign_id, to=S.COMPLETED,
                   now=now, note=note)  # fmt: skip
    if finished:
        session.execute(
            update(Message)
            .where(
                Message.campaign_id.in_([campaign_id for campaign_id, _ in finished]),
                Message.status == MessageStatus.QUEUED,
            )
            .values(status=MessageStatus.CANCELLED, error="The campaign ended first.")
            .execution_options(synchronize_session=False)
        )
    return [campaign_id for campaign_id, _ in finished]


def duplicate_campaign(*, session: Session, actor: Actor, campaign_id: int) -> Campaign:
    """A new draft with the same details and plan; nothing sent is copied."""
    authorize(actor, Permission.RUN_CAMPAIGNS)
    original = get_campaign(session=session, campaign_id=campaign_id)
    details = details_of(original)
    names = set(session.scalars(select(Campaign.name)))
    name = next(
        candidate
        for n in range(1, 1000)
        if (candidate := f"{original.name} (copy{'' if n == 1 else f' {n}'})"[:120]) not in names
    )
    copy = create_campaign(
        session=session, actor=actor, details=Details(**{**details.__dict__, "name": name})
    )
    copy.duplicated_from = original.id
    copy.plan_source, copy.plan_note = original.plan_source, original.plan_note
    copy.plan_meta = dict(original.plan_meta)
    copy.builder_step = original.builder_step
    plan = plan_of(original)
    if plan is not None:
        _replace_steps(session, copy, plan)
    return copy


def delete_campaign(*, session: Session, actor: Actor, campaign_id: int) -> None:
    """Delete a draft; anything that has been scheduled or run is archived instead."""
    authorize(actor, Permission.RUN_CAMPAIGNS)
    campaign = get_campaign(session=session, campaign_id=campaign_id)
    if campaign.status != S.DRAFT or campaign.started_at is not None:
        raise Conflict(f"Only drafts can be deleted; archive “{campaign.name}” instead.")
    audit.record(
        session=session, actor=actor, action="campaign.delete", entity_type="campaign",
        entity_id=campaign.id, changes={"name": campaign.name},
    )  # fmt: skip
    session.delete(campaign)


def describe_offer(kind: str, value: float, category: str | None) -> str:
    on = f" {category}" if category else ""
    return {
        "percent_off": f"{value:g}% off{on}",
        "amount_off": f"${value:g} off{on}",
        "bundle": f"${value:g} off a{on} bundle",
        "early_access": f"early access{(' to' + on) if on else ''}",
        "gift": f"a gift with{on or ' any'} purchase",
        "none": "no offer",
    }.get(kind, kind)


def summary_counts(*, session: Session) -> dict[str, int]:
    """Campaigns per status, for the list's filter."""
    return dict(
        session.execute(select(Campaign.status, func.count()).group_by(Campaign.status)).all()
    )
