"""Use cases that span a transaction and the queue. Pages, the clock and the scheduler call these,
so "a campaign starts → its actions are prepared" is written once.

Each flow reads the clock when the caller gives no `now`, does its database work in one
transaction, and hands the follow-up work to the queue only after that transaction committed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import date, datetime

from core import abtests, campaigns, imports
from core.campaigns import actions
from core.config import get_settings
from core.db import session_scope, utc_now
from core.errors import ValidationError
from core.infra import job_rows
from core.messaging import monitor, outbox, templates
from core.messaging.routing import provider_for, why_held
from core.models import ActionStatus, Campaign, CampaignStatus, CampaignType, Channel, Import
from core.permissions import SYSTEM, Actor, Permission, authorize
from jobs import queue, tasks

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Moved:
    """Where a campaign went, and the job that prepares its actions when it started."""

    campaign_id: int
    name: str
    status: CampaignStatus
    starts_at: datetime | None
    actions_job: str | None = None
    sending_job: str | None = None
    """The job sending what was due at the start, when something was."""


def start_campaign(*, actor: Actor, campaign_id: int, now: datetime | None = None) -> Moved:
    """Start a draft or scheduled campaign at once: the sends due now are written and sent
    straight away (not on the clock's next minute), and its actions are prepared."""
    now = now or utc_now()
    with session_scope() as session:
        campaign = campaigns.start_now(
            session=session, actor=actor, campaign_id=campaign_id, now=now
        )
        moved = _moved(campaign)
    sending = write_due_sends(actor=actor, now=now)
    return _with_actions(replace(moved, sending_job=next(iter(sending), None)), actor)


def decide_actions(
    *,
    actor: Actor,
    action_ids: list[int],
    status: ActionStatus,
    now: datetime | None = None,
) -> int:
    """Approve, skip or mark done; an approval in a campaign that messages approved actions
    only is written and sent at once when its send is due. Returns how many changed."""
    now = now or utc_now()
    with session_scope() as session:
        changed = actions.decide(
            session=session, actor=actor, action_ids=action_ids, status=status, now=now
        )
    if status == ActionStatus.APPROVED and changed:
        write_due_sends(actor=actor, now=now)
    return changed


def choose_winner(
    *, actor: Actor, test_id: int, position: int, now: datetime | None = None
) -> str | None:
    """A marketer's choice of winner; when the test kept part of the audience for the winner,
    the job that writes their messages starts at once. Returns its id."""
    now = now or utc_now()
    with session_scope() as session:
        test = abtests.choose_winner(
            session=session, actor=actor, test_id=test_id, position=position, now=now
        )
        rollout = test.test_percent < 100
    return queue.enqueue(tasks.decide_tests, created_by=actor.user_id) if rollout else None


def write_due_sends(*, actor: Actor, now: datetime) -> list[str]:
    """Write the messages of the sends coming due and, when any is due now and no send job is
    running, start one. Returns the id of the job started."""
    with session_scope() as session:
        outbox.queue_due_steps(session=session, now=now)
        due = outbox.count_due(session=session, now=now)
        busy = job_rows.is_active(session=session, kind=tasks.send_messages.kind, now=now)
    return [send_now(actor=actor)] if due and not busy else []


def schedule_campaign(*, actor: Actor, campaign_id: int, now: datetime | None = None) -> Moved:
    """Schedule a ready draft for its start time. It starts by itself then: at that minute
    through RQ's scheduler with Redis, on the next tick of the in-process clock without."""
    with session_scope() as session:
        campaign = campaigns.transition(
            session=session,
            actor=actor,
            campaign_id=campaign_id,
            to=CampaignStatus.SCHEDULED,
            now=now or utc_now(),
        )
        moved = _moved(campaign)
    assert moved.starts_at is not None  # a campaign without a start is not ready
    queue.run_at(moved.starts_at, start_due_campaigns)
    return moved


def move_campaign(
    *,
    actor: Actor,
    campaign_id: int,
    to: CampaignStatus,
    note: str = "",
    now: datetime | None = None,
) -> Moved:
    """Any move the state machine allows; starting a scheduled campaign is `start_campaign`."""
    now = now or utc_now()
    with session_scope() as session:
        current = campaigns.get_campaign(session=session, campaign_id=campaign_id).status
    if to == CampaignStatus.RUNNING and current == CampaignStatus.SCHEDULED:
        return start_campaign(actor=actor, campaign_id=campaign_id, now=now)
    with session_scope() as session:
        campaign = campaigns.transition(
            session=session, actor=actor, campaign_id=campaign_id, to=to, note=note, now=now
        )
        return _moved(campaign)


def plan_campaign(*, actor: Actor, campaign_id: int, use_ai: bool) -> str:
    """Plan a draft in a job, so a slow AI model never holds up the page. Returns its id."""
    authorize(actor, Permission.RUN_CAMPAIGNS)
    return queue.enqueue(
        tasks.plan_campaign, created_by=actor.user_id, campaign_id=campaign_id, use_ai=use_ai
    )


def cancel_job(*, actor: Actor, job_id: str, now: datetime | None = None) -> bool:
    """Cancel a job someone started (theirs, or anyone's for an administrator). Returns whether
    it was still going."""
    with session_scope() as session:
        job = job_rows.get_job(session=session, job_id=job_id)
        if job.created_by != actor.user_id:
            authorize(actor, Permission.MANAGE_SETTINGS)
        return job_rows.cancel_job(session=session, job_id=job_id, now=now or utc_now())


def prepare_actions(*, actor: Actor, campaign_id: int) -> str:
    """Rank the campaign's customers into a new run of actions, in a job. Returns its id."""
    return queue.enqueue(tasks.generate_actions, created_by=actor.user_id, campaign_id=campaign_id)


def start_due_campaigns(now: datetime | None = None) -> list[str]:
    """Start the scheduled campaigns whose time has come, and complete the finished ones.

    Called by the clock every minute, and by RQ's scheduler at a campaign's exact start when
    Redis is configured. Returns the ids of the jobs preparing the started campaigns' actions.
    """
    now = now or utc_now()
    with session_scope() as session:
        started = campaigns.start_due_campaigns(session=session, actor=SYSTEM, now=now)
        finished = campaigns.complete_finished_campaigns(session=session, actor=SYSTEM, now=now)
    for campaign_id in started:
        log.info("campaign started", extra={"campaign_id": campaign_id})
    if finished:
        log.info("campaigns completed", extra={"campaign_ids": finished})
    return [prepare_actions(actor=SYSTEM, campaign_id=i) for i in started]


def send_now(*, actor: Actor) -> str:
    """Send whatever is due, in a job (the clock starts one every minute anyway)."""
    return queue.enqueue(tasks.send_messages, created_by=actor.user_id)


def retry_messages(
    *, actor: Actor, message_ids: list[int] | None = None, now: datetime | None = None
) -> int:
    """Queue failed messages again (those of `message_ids`, or every retryable one) and send
    them. Returns how many were queued."""
    with session_scope() as session:
        again = monitor.retry_failed(
            session=session, actor=actor, message_ids=message_ids, now=now or utc_now()
        )
    if again:
        send_now(actor=actor)
    return again


def send_test(*, actor: Actor, template_id: int, to: str, now: datetime | None = None) -> str:
    """Send a template to its author's own address or number. Returns the provider's name
    (`sandbox` when none is configured: the message then never leaves the app).

    Raises:
        ValidationError: the channel is held (see `routing.why_held`), and why.
    """
    with session_scope() as session:
        template = templates.get_template(session=session, template_id=template_id)
        if held := why_held(template.channel, get_settings()):
            raise ValidationError(held)
        message = outbox.queue_test(
            session=session, actor=actor, template_id=template_id, to=to, now=now or utc_now()
        )
        channel = message.channel
    send_now(actor=actor)
    return provider_for(channel, get_settings()).name


def send_channel_test(*, actor: Actor, channel: Channel, to: str) -> str:
    """Send the default promotion template of `channel` to `to` (the person at the screen), to
    see the provider at work. Returns the provider's name."""
    with session_scope() as session:
        template = outbox.default_template(
            session=session, campaign_type=CampaignType.PROMOTION, channel=channel
        )
        if template is None:
            raise ValidationError(f"There is no {channel.value} template to send.")
        template_id = template.id
    return send_test(actor=actor, template_id=template_id, to=to)


def load_demo(*, user_id: int | None) -> str:
    """Load the demo store (DEMO_CUSTOMERS customers), scored, in a job. Returns its id."""
    return queue.enqueue(tasks.load_demo, created_by=user_id)


def rescore(*, actor: Actor, as_of: date | None, horizon_days: int) -> str:
    """Score every customer from the orders up to `as_of` (None: the latest order day), then
    refresh the segments, in a job."""
    return queue.enqueue(
        tasks.score,
        created_by=actor.user_id,
        as_of=as_of.isoformat() if as_of else None,
        horizon_days=horizon_days,
    )


def start_import(*, actor: Actor, import_id: str) -> str:
    """Load a prepared import in a job (which rescores afterwards), or carry on with a stopped
    one from its checkpoint. Returns the job's id."""
    authorize(actor, Permission.EDIT_DATA)
    return queue.enqueue(tasks.run_import, created_by=actor.user_id, import_id=import_id)


def resumable_imports(*, limit: int = 5) -> list[Import]:
    """The imports a Resume button can carry on (see `imports.stopped_imports`)."""
    with session_scope(read_only=True) as session:
        busy = job_rows.is_active(session=session, kind=tasks.run_import.kind, now=utc_now())
        return imports.stopped_imports(session=session, include_running=not busy, limit=limit)


def _moved(campaign: Campaign) -> Moved:
    return Moved(campaign.id, campaign.name, CampaignStatus(campaign.status), campaign.starts_at)


def _with_actions(moved: Moved, actor: Actor) -> Moved:
    return replace(moved, actions_job=prepare_actions(actor=actor, campaign_id=moved.campaign_id))


def job_label(kind: str) -> str:
    """A job's kind in words ("Importing a file"), or the kind itself for one no longer known."""
    known = tasks.TASKS.get(kind)
    return known.label if known else kind
