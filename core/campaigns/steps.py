"""A campaign's plan, kept as its steps: saved from a planner's outcome or an edit, read back
as a Plan, copied with the campaign."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.campaigns.details import (
    Details,
    _require_editable,
    create_campaign,
    details_of,
    get_campaign,
)
from core.campaigns.planner import PlanOutcome, build_context, make_plan
from core.campaigns.plans import Plan, PlanContext, check_plan
from core.db import UnitOfWork
from core.infra import audit, events
from core.models import (
    Campaign,
    CampaignStatus,
    CampaignStep,
    PlanSource,
)
from core.permissions import Actor, Permission, authorize
from core.store_profile import get_store_profile

S = CampaignStatus


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
        today=get_store_profile(session=session).today(now),
    )


def campaign_days(*, session: Session, campaign: Campaign, now: datetime) -> tuple[date, date]:
    """The campaign's first and last day in the store's time zone (default: the 7 days after
    `now`)."""
    zone = get_store_profile(session=session).zone
    start = (campaign.starts_at or now + timedelta(days=1)).astimezone(zone).date()
    end = campaign.ends_at.astimezone(zone).date() if campaign.ends_at else start + timedelta(6)
    return start, end


def propose_plan(
    *, unit_of_work: UnitOfWork, actor: Actor, campaign_id: int, use_ai: bool, now: datetime
) -> PlanOutcome:
    """A plan for a draft from the AI planner (the built-in one when there is no AI or it
    fails), or from the built-in planner alone; `save_plan` keeps it."""
    authorize(actor, Permission.RUN_CAMPAIGNS)
    with unit_of_work(read_only=True) as session:
        campaign = get_campaign(session=session, campaign_id=campaign_id)
        _require_editable(campaign)
        context = plan_context(session=session, campaign=campaign, now=now)
    return make_plan(unit_of_work=unit_of_work, context=context, use_ai=use_ai)


def save_plan(
    *, session: Session, actor: Actor, campaign_id: int, outcome: PlanOutcome, now: datetime
) -> Campaign:
    """Replace a draft's steps with a checked plan and record where it came from."""
    authorize(actor, Permission.RUN_CAMPAIGNS)
    campaign = get_campaign(session=session, campaign_id=campaign_id)
    _require_editable(campaign)
    _replace_steps(session, campaign, outcome.plan)
    campaign.plan_source = outcome.source
    campaign.plan_note = "\n".join([outcome.note, *outcome.repairs])
    campaign.plan_meta = {
        **outcome.meta,
        "summary": outcome.plan.summary,
        "repairs": outcome.repairs,
    }
    campaign.builder_step = max(campaign.builder_step, 3)
    audit.record(
        session=session,
        actor=actor,
        action="campaign.plan",
        entity_type="campaign",
        entity_id=campaign.id,
        changes={
            "source": outcome.source.value,
            "sends": len(outcome.plan.sends),
            "cost_usd": outcome.meta.get("cost_usd"),
        },
    )
    if outcome.meta.get("cost_usd") is not None:
        events.record(
            session=session,
            type="plan_generated",
            campaign_id=campaign.id,
            user_id=actor.user_id,
            occurred_at=now,
            data={
                k: outcome.meta.get(k)
                for k in ("model", "prompt_tokens", "completion_tokens", "cost_usd", "cached")
            },
        )
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
    campaign.void_sign_off()
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
                template_id=send.template_id,
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
                    "day": step.day,
                    "local_time": step.local_time,
                    "segment_id": step.segment_id or 0,
                    "channel": step.channel,
                    "offer_kind": step.offer_kind,
                    "offer_value": step.offer_value,
                    "offer_category": step.offer_category,
                    "offer_description": step.offer_description,
                    "angle": step.angle,
                    "template_id": step.template_id,
                    "expected_reach": step.expected_reach,
                    "expected_cost_cents": step.expected_cost_cents,
                }
                for step in campaign.steps
            ],
        }
    )


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
