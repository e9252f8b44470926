"""A campaign's lifecycle, kept by an explicit state machine.

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

from datetime import date, datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from core import compliance
from core.campaigns.details import MAX_DAYS, audience_reach, get_campaign
from core.campaigns.steps import campaign_days
from core.compliance import content
from core.errors import Conflict, NotFound, ValidationError
from core.infra import audit, events
from core.models import (
    ABTest,
    ABVariant,
    Campaign,
    CampaignStatus,
    CampaignStep,
    Channel,
    Message,
    MessageStatus,
    StepStatus,
    Template,
    TestStatus,
)
from core.permissions import Actor, Permission, authorize
from core.store_profile import get_store_profile

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
    S.SCHEDULED: "schedule",
    S.RUNNING: "start",
    S.PAUSED: "pause",
    S.COMPLETED: "complete",
    S.ARCHIVED: "archive",
    S.DRAFT: "unschedule",
}


# --- readiness and the lifecycle -----------------------------------------------------------


BUILDER_STEPS = ("Details", "Audience", "Strategy", "Review & schedule")


def problems(*, session: Session, campaign: Campaign, step: int, now: datetime) -> list[str]:
    """What stops a draft from passing builder step `step` (1–4) at `now`; empty when it may
    go on."""
    found: list[str] = []
    if step >= 1:
        found += _detail_problems(campaign)
    if step >= 2:
        found += _audience_problems(
            session, campaign, get_store_profile(session=session).today(now)
        )
    if step >= 3 and not campaign.steps:
        found.append("Make a plan: ask the planner, or add sends by hand.")
    if step >= 4 and campaign.steps:
        start, end = campaign_days(session=session, campaign=campaign, now=now)
        outside = [s.position for s in campaign.steps if not start <= s.day <= end]
        if outside:
            found.append(f"Sends {outside} fall outside the campaign's dates: plan again.")
    if step >= 4:
        findings = content_findings(session=session, campaign=campaign)
        found += [str(finding) for finding in content.blocking(findings)]
        found += _offer_problems(session, campaign)
    if step >= 4 and campaign.supplier and campaign.signed_off_at is None:
        found.append(
            f"{campaign.supplier} pays for this campaign: an admin must sign it off first "
            "(tied-house rules, 27 CFR 6.51)."
        )
    emails = step >= 4 and Channel.EMAIL.value in campaign.channels
    if emails and not get_store_profile(session=session).is_complete:
        found.append(
            "Fill in the store's postal address on the Store profile page: every marketing "
            "email must show it."
        )
    return found


def content_findings(*, session: Session, campaign: Campaign) -> list[content.Finding]:
    """What the campaign's words say that an alcohol ad may not: each send's offer and angle
    (the planner's wording), its template, and its A/B variants' subjects, offers and
    templates (core.compliance.content)."""
    found: list[content.Finding] = []
    variants = _challengers(session, campaign)
    for step in campaign.steps:
        sends: list[tuple[str, CampaignStep | ABVariant, str]] = [
            (f"Send {step.position}", step, "")
        ]
        sends += [
            (f"Send {step.position}, variant {v.name}", v, v.subject)
            for v in variants.get(step.id, [])
        ]
        for where, send, subject in sends:
            angle = send.angle if isinstance(send, CampaignStep) else ""
            found += content.lint(
                [(f"{where}, offer", send.offer_description), (f"{where}, angle", angle)]
            )
            found += content.lint_message(subject=subject, where=where)
            template = session.get(Template, send.template_id) if send.template_id else None
            if template is not None:
                found += content.lint_message(
                    subject=template.subject,
                    preheader=template.preheader,
                    html=template.body_html,
                    text=template.body_text,
                    where=f"{where}, template “{template.name}”",
                )
    return list(dict.fromkeys(found))


def _challengers(session: Session, campaign: Campaign) -> dict[int, list[ABVariant]]:
    """The A/B variants other than A (the step itself) of each tested step, by step id."""
    return {
        test.step_id: [v for v in test.variants if v.position > 0]
        for test in session.scalars(select(ABTest).where(ABTest.campaign_id == campaign.id))
    }


def _offer_problems(session: Session, campaign: Campaign) -> list[str]:
    """Offers the store's state forbids, and discounts deeper than the policy, the state or
    the campaign allow, on any send or A/B variant (a plan is repaired; a hand edit is caught
    here)."""
    policy = compliance.get_policy(session=session)
    state = get_store_profile(session=session).state
    deepest = compliance.max_discount_percent(policy, state, campaign.max_discount_percent)
    variants = _challengers(session, campaign)
    offers: list[tuple[str, CampaignStep | ABVariant]] = [
        (f"Send {s.position}", s) for s in campaign.steps
    ]
    offers += [
        (f"Send {s.position}, variant {v.name}", v)
        for s in campaign.steps
        for v in variants.get(s.id, [])
    ]
    found = []
    for where, offer in offers:
        if why := compliance.banned_offer(policy, state, offer.offer_kind):
            found.append(f"{where}: {why}; change its offer.")
        elif offer.offer_kind == "percent_off" and offer.offer_value > deepest:
            found.append(
                f"{where}: {offer.offer_value:g}% off is deeper than the {deepest}% allowed"
                + (f" in {state}" if deepest == policy.state_discount_caps.get(state) else "")
                + "."
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


def sign_off(*, session: Session, actor: Actor, campaign_id: int, now: datetime) -> Campaign:
    """An admin's compliance sign-off on a supplier-funded draft (the co-op arrangement checked
    against the tied-house rules); audited. A later change to its details or plan voids it."""
    authorize(actor, Permission.MANAGE_SETTINGS)
    campaign = get_campaign(session=session, campaign_id=campaign_id)
    if not campaign.supplier:
        raise ValidationError(f"“{campaign.name}” is not paid for by a supplier: nothing to sign.")
    if campaign.status != S.DRAFT:
        raise Conflict(f"“{campaign.name}” is {campaign.status}: only a draft is signed off.")
    campaign.signed_off_by, campaign.signed_off_at = actor.user_id, now
    audit.record(
        session=session,
        actor=actor,
        action="campaign.signed_off",
        entity_type="campaign",
        entity_id=campaign.id,
        changes={"supplier": campaign.supplier},
    )
    return campaign


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
    campaign.status = to
    campaign.status_note = note
    stamp = {
        S.SCHEDULED: "scheduled_at",
        S.COMPLETED: "completed_at",
        S.ARCHIVED: "archived_at",
    }.get(to)
    if stamp:
        setattr(campaign, stamp, now)
    if to == S.RUNNING and campaign.started_at is None:
        campaign.started_at = now
    audit.record(
        session=session,
        actor=actor,
        action=f"campaign.{VERBS[to]}",
        entity_type="campaign",
        entity_id=campaign.id,
        changes={"from": current.value, "to": to.value, "note": note},
    )
    events.record(
        session=session,
        type=f"campaign_{to.value}",
        campaign_id=campaign.id,
        user_id=actor.user_id,
        occurred_at=now,
        data={"from": current.value, "note": note},
    )
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
                session=session,
                actor=actor,
                campaign_id=campaign_id,
                to=S.RUNNING,
                now=now,
                note="Started on schedule.",
            )
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
        session=session,
        actor=actor,
        campaign_id=campaign_id,
        to=S.DRAFT,
        now=now,
        note=f"Could not start on schedule: {reason}",
    )


def complete_finished_campaigns(*, session: Session, actor: Actor, now: datetime) -> list[int]:
    """Complete running campaigns whose last message is settled (every step written out, no
    A/B test's winner still to send to the rest of its audience, nothing waiting), or whose
    end has passed: what was still waiting then is cancelled. Returns their ids."""
    waiting = select(Message.campaign_id).where(
        Message.status.in_([MessageStatus.QUEUED, MessageStatus.SENDING]),
        Message.campaign_id.is_not(None),
    )
    unwritten = select(CampaignStep.campaign_id).where(CampaignStep.status == StepStatus.PLANNED)
    awaiting_winner = select(ABTest.campaign_id).where(
        ABTest.test_percent < 100, ABTest.status != TestStatus.ROLLED_OUT
    )
    all_sent = and_(
        Campaign.id.in_(select(CampaignStep.campaign_id)),
        Campaign.id.not_in(unwritten),
        Campaign.id.not_in(waiting),
        Campaign.id.not_in(awaiting_winner),
    )
    finished = session.execute(
        select(Campaign.id, Campaign.ends_at <= now).where(
            Campaign.status == S.RUNNING, or_(Campaign.ends_at <= now, all_sent)
        )
    ).all()
    for campaign_id, ended in finished:
        note = "Its last day has passed." if ended else "Its last message went out."
        transition(
            session=session,
            actor=actor,
            campaign_id=campaign_id,
            to=S.COMPLETED,
            now=now,
            note=note,
        )
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
