"""Prioritized per-customer actions: who to contact first in a campaign, with what, and when.

One run ranks every customer the campaign may reach and keeps the top `limit` (300 by default):

    priority = 100 × (0.35 value + 0.25 risk + 0.25 overdue + 0.15 responsiveness)

- value: the customer's predicted value over the next year, as a percentile of the audience;
- risk: the chance they have stopped buying (1 − P(alive)), or their churn band when unscored;
- overdue: days since their last order against their own rhythm (every N days);
- responsiveness: how many orders they are expected to place, as a percentile (a stand-in for
  message engagement until there is enough of it).

Each action says which factors weighed most, carries the offer of the customer's best plan step
adjusted to them (their favourite category; a smaller discount for loyal big spenders, who buy
anyway; never above the margin floor), the channel they may be reached on, and a due time in
their own time zone inside the legal hours. Deleted, under-21, unconsented or excluded customers
never appear, and no customer appears twice in a run.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, TextIO
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session

from core import compliance
from core.campaigns.details import get_campaign
from core.campaigns.plans import describe_offer
from core.db import rowcount, table_of
from core.errors import ValidationError
from core.infra import audit, events
from core.infra.csv_safe import write_csv
from core.models import (
    Action,
    ActionStatus,
    Campaign,
    CampaignStep,
    Channel,
    Customer,
    SegmentMember,
)
from core.permissions import Actor, Permission, authorize
from core.store_profile import get_store_profile

DEFAULT_LIMIT = 300
MAX_LIMIT = 10_000
WEIGHTS = {"value": 0.35, "risk": 0.25, "overdue": 0.25, "responsiveness": 0.15}
CHURN_BANDS = {"low": 0.2, "medium": 0.5, "high": 0.8}
LOYAL_DISCOUNT_SHARE = 0.5
"""Loyal big spenders (top-fifth value, little risk) get half the discount: they buy anyway."""


@dataclass(frozen=True)
class ActionRun:
    run_id: str
    campaign_id: int
    created: int
    candidates: int
    """Customers the campaign could reach, before keeping the top ones."""


def generate_actions(
    *,
    session: Session,
    actor: Actor,
    campaign_id: int,
    limit: int = DEFAULT_LIMIT,
    now: datetime,
) -> ActionRun:
    """Rank the campaign's reachable customers and store the top `limit` as a new run."""
    authorize(actor, Permission.RUN_CAMPAIGNS)
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationError(f"The number of actions must be 1 to {MAX_LIMIT:,}.", field="limit")
    campaign = get_campaign(session=session, campaign_id=campaign_id)
    if not campaign.steps:
        raise ValidationError(f"“{campaign.name}” has no plan yet: plan it first.")
    store = get_store_profile(session=session)
    policy = compliance.get_policy(session=session)
    today = store.today(now)
    audience = _audience(session, campaign, today)
    run_id = str(uuid.uuid4())
    if audience.empty:
        return ActionRun(run_id, campaign.id, 0, 0)
    ranked = _prioritise(audience).head(limit)
    rows = [
        _action(row, campaign, run_id, store.zone, store.state, policy, now)
        for row in ranked.itertuples()
    ]
    session.execute(table_of(Action).insert(), rows)
    created = len(rows)
    audit.record(
        session=session,
        actor=actor,
        action="actions.generate",
        entity_type="campaign",
        entity_id=campaign.id,
        changes={"run_id": run_id, "actions": created},
    )
    events.record(
        session=session,
        type="actions_generated",
        campaign_id=campaign.id,
        user_id=actor.user_id,
        occurred_at=now,
        data={"run_id": run_id, "actions": created, "candidates": len(audience)},
    )
    return ActionRun(run_id, campaign.id, created, len(audience))


def _audience(session: Session, campaign: Campaign, today: date) -> pd.DataFrame:
    """One row per reachable customer in the campaign's segments (not in its exclusions), with
    the segments they are in and the channels they may be messaged on."""
    channels = [Channel(c) for c in campaign.channels]
    flags = [
        case((compliance.reachable(c, today), 1), else_=0).label(f"can_{c.value}") for c in channels
    ]
    excluded = select(SegmentMember.customer_id).where(
        SegmentMember.segment_id.in_(campaign.excluded_segment_ids or [-1])
    )
    query = (
        select(
            Customer.id,
            SegmentMember.segment_id,
            Customer.predicted_clv_cents,
            Customer.p_alive,
            Customer.churn_risk,
            Customer.last_order_at,
            Customer.days_between_orders,
            Customer.expected_orders,
            Customer.preferred_category,
            Customer.average_order_cents,
            Customer.timezone,
            Customer.state,
            Customer.phone,
            *flags,
        )
        .join(SegmentMember, SegmentMember.customer_id == Customer.id)
        .where(
            SegmentMember.segment_id.in_(campaign.segment_ids),
            Customer.id.not_in(excluded),
            compliance.reachable_anyhow(channels, today),
        )
    )
    rows = session.execute(query).all()
    columns = [
        "customer_id",
        "segment_id",
        "clv",
        "p_alive",
        "churn_risk",
        "last_order",
        "rhythm",
        "expected_orders",
        "favourite",
        "average_order",
        "timezone",
        "state",
        "phone",
        *(f"can_{c.value}" for c in channels),
    ]
    frame = pd.DataFrame([tuple(r) for r in rows], columns=columns)
    if frame.empty:
        return frame
    segments = frame.groupby("customer_id")["segment_id"].agg(list)
    frame = frame.drop_duplicates("customer_id").set_index("customer_id")
    frame["segments"] = segments
    for channel in Channel:
        if f"can_{channel.value}" not in frame:
            frame[f"can_{channel.value}"] = 0
    frame["steps"] = pd.Series(
        [
            _steps_for(campaign.steps, segs, row_can)
            for segs, row_can in zip(
                frame["segments"], frame[["can_email", "can_sms"]].to_numpy(), strict=True
            )
        ],
        index=frame.index,
        dtype=object,
    )
    frame["recency_days"] = _days_since(frame["last_order"], today)
    return frame[frame["steps"].map(bool)]


def _steps_for(
    steps: list[CampaignStep], segments: list[int], can: np.ndarray
) -> list[CampaignStep]:
    """The plan steps that would reach a customer: for their segments, on a channel they may
    get; earliest first."""
    allowed = {Channel.EMAIL.value: bool(can[0]), Channel.SMS.value: bool(can[1])}
    return sorted(
        (s for s in steps if s.segment_id in segments and allowed.get(s.channel)),
        key=lambda s: (s.day, s.local_time),
    )


def _days_since(last_order: pd.Series, today: date) -> pd.Series:
    moments = pd.to_datetime(last_order, utc=True, format="mixed")
    return (pd.Timestamp(today, tz="UTC") - moments).dt.days.astype("float")


def _prioritise(frame: pd.DataFrame) -> pd.DataFrame:
    """Score and sort; ties go to the lower customer id so runs are reproducible."""
    value = frame["clv"].fillna(0).rank(pct=True)
    banded = frame["churn_risk"].map(CHURN_BANDS).fillna(0.5)
    risk = (1 - frame["p_alive"]).where(frame["p_alive"].notna(), banded).clip(0, 1)
    rhythm = frame["rhythm"].where(frame["rhythm"] > 0)
    overdue = ((frame["recency_days"] / rhythm - 1) / 2).where(
        rhythm.notna(), frame["recency_days"] / 180
    )
    overdue = overdue.fillna(0).clip(0, 1)
    responsive = frame["expected_orders"].fillna(0).rank(pct=True)
    parts = pd.DataFrame(
        {"value": value, "risk": risk, "overdue": overdue, "responsiveness": responsive}
    )
    weighted = parts * pd.Series(WEIGHTS)
    scored = frame.assign(
        priority=(100 * weighted.sum(axis=1)).round(2),
        value_share=value,
        risk_share=risk,
        contributions=pd.Series(weighted.to_dict("records"), index=weighted.index),
    )
    scored = scored.reset_index().sort_values(["priority", "customer_id"], ascending=[False, True])
    return scored


def _reasons(row: Any) -> list[str]:
    """The factors that weighed most, in words, biggest first."""
    top_share = max(1, round(100 * (1 - row.value_share)))
    said = {
        "value": f"worth ${(row.clv or 0) / 100:,.0f} next year (top {top_share}%)",
        "risk": f"{row.risk_share:.0%} chance they have stopped buying",
        "overdue": (
            f"{row.recency_days:.0f} days since their last order, usually every {row.rhythm:.0f}"
            if row.rhythm and row.rhythm > 0 and not pd.isna(row.recency_days)
            else f"{row.recency_days:.0f} days since their last order"
            if not pd.isna(row.recency_days)
            else "has not ordered yet"
        ),
        "responsiveness": f"expected to order {row.expected_orders or 0:.1f} times next year",
    }
    if pd.isna(row.clv) or not row.clv:
        del said["value"]  # no purchase yet, or nothing predicted: no value to speak of
    top = sorted(row.contributions.items(), key=lambda item: -item[1])
    return [said[name] for name, weight in top if weight > 0 and name in said][:3]


def _action(
    row: Any,
    campaign: Campaign,
    run_id: str,
    store_zone: ZoneInfo,
    store_state: str,
    policy: compliance.Policy,
    now: datetime,
) -> dict[str, Any]:
    step: CampaignStep = row.steps[0]
    kind, value, category = _personal_offer(row, step, campaign, policy, store_state)
    zone = _zone(row.timezone, store_zone)
    due = datetime.combine(step.day, time.fromisoformat(step.local_time), zone)
    due = max(due, now.astimezone(zone))
    if step.channel == Channel.SMS.value:
        states = compliance.states_of(row.state, row.phone)
        due = compliance.next_allowed_send(due, zone=zone, states=states, policy=policy)
    return {
        "campaign_id": campaign.id,
        "step_id": step.id,
        "run_id": run_id,
        "customer_id": int(row.customer_id),
        "priority": float(row.priority),
        "reasons": _reasons(row),
        "channel": step.channel,
        "offer_kind": kind,
        "offer_value": value,
        "offer_category": category,
        "offer_description": describe_offer(kind, value, category)[:200],
        "due_at": due.astimezone(now.tzinfo),
        "status": ActionStatus.PROPOSED.value,
        "created_at": now,
    }


def _personal_offer(
    row: Any, step: CampaignStep, campaign: Campaign, policy: compliance.Policy, state: str
) -> tuple[str, float, str | None]:
    """The step's offer, fitted to the customer: their favourite category when the step names
    none, half the discount for loyal big spenders, and never below the margin floor."""
    kind, value = step.offer_kind, float(step.offer_value)
    category = step.offer_category or (row.favourite if isinstance(row.favourite, str) else None)
    cap = compliance.max_discount_percent(policy, state, campaign.max_discount_percent)
    loyal = row.value_share >= 0.8 and row.risk_share < 0.3
    if kind == "percent_off":
        value = min(value * (LOYAL_DISCOUNT_SHARE if loyal else 1), cap)
    elif kind in ("amount_off", "bundle") and row.average_order and row.average_order > 0:
        value = min(value, round(row.average_order * cap / 100 / 100))
    return kind, round(value, 1), category


def _zone(name: Any, default: ZoneInfo) -> ZoneInfo:
    try:
        return ZoneInfo(name) if isinstance(name, str) and name else default
    except (KeyError, ValueError):
        return default


# --- reading and deciding ------------------------------------------------------------------


def latest_run(*, session: Session, campaign_id: int) -> str | None:
    return session.scalar(
        select(Action.run_id)
        .where(Action.campaign_id == campaign_id)
        .order_by(Action.created_at.desc(), Action.id.desc())
        .limit(1)
    )


@dataclass(frozen=True)
class ActionFilter:
    campaign_id: int | None = None
    run_id: str | None = None
    status: ActionStatus | None = None
    channel: Channel | None = None


def list_actions(
    *, session: Session, filters: ActionFilter, limit: int = 500, offset: int = 0
) -> list[tuple[Action, Customer]]:
    """Actions with their customers, highest priority first."""
    query = (
        select(Action, Customer)
        .join(Customer, Customer.id == Action.customer_id)
        .order_by(Action.priority.desc(), Action.id)
        .limit(limit)
        .offset(offset)
    )
    for condition in _conditions(filters):
        query = query.where(condition)
    return [(action, customer) for action, customer in session.execute(query).all()]


def count_actions(*, session: Session, filters: ActionFilter) -> dict[str, int]:
    """Actions per status."""
    query = select(Action.status, func.count()).group_by(Action.status)
    for condition in _conditions(filters):
        query = query.where(condition)
    return dict(session.execute(query).all())


def _conditions(filters: ActionFilter) -> list[Any]:
    conditions = []
    if filters.campaign_id is not None:
        conditions.append(Action.campaign_id == filters.campaign_id)
    if filters.run_id is not None:
        conditions.append(Action.run_id == filters.run_id)
    if filters.status is not None:
        conditions.append(Action.status == filters.status)
    if filters.channel is not None:
        conditions.append(Action.channel == filters.channel)
    return conditions


def decide(
    *,
    session: Session,
    actor: Actor,
    action_ids: list[int],
    status: ActionStatus,
    now: datetime,
) -> int:
    """Approve or skip actions that are still open (proposed, or the other decision), or mark
    approved ones done (a call made, a word in the store) with the outcome "done by staff"."""
    authorize(actor, Permission.RUN_CAMPAIGNS)
    if not action_ids:
        return 0
    open_ones = Action.id.in_(action_ids)
    if status == ActionStatus.DONE:
        change = update(Action).where(open_ones, Action.status == ActionStatus.APPROVED)
        change = change.values(status=status.value, done_at=now, outcome=DONE_BY_STAFF)
    elif status in (ActionStatus.APPROVED, ActionStatus.SKIPPED, ActionStatus.PROPOSED):
        change = update(Action).where(open_ones, Action.status != ActionStatus.DONE)
        change = change.values(status=status.value, decided_by=actor.user_id, decided_at=now)
    else:
        raise ValidationError("Actions can be approved, skipped, put back or marked done.")
    changed = rowcount(session.execute(change.execution_options(synchronize_session=False)))
    audit.record(
        session=session,
        actor=actor,
        action=f"actions.{status.value}",
        entity_type="action",
        changes={"ids": action_ids[:100], "count": changed},
    )
    return changed


DONE_BY_STAFF = "done by staff"
OUTCOMES = ("sent in test mode", "delivered", "opened", "clicked")
"""How far a messaged customer went, each step past the one before (a click proves the open)."""


def record_outcome(*, session: Session, action_id: int, outcome: str, now: datetime) -> None:
    """What became of an action's message: the action is done once its message is delivered
    (or sent, in test mode, where nothing is delivered), and its outcome only ever moves on."""
    action = session.get(Action, action_id)
    if action is None or action.outcome == DONE_BY_STAFF:
        return
    reached = OUTCOMES.index(action.outcome) if action.outcome in OUTCOMES else -1
    if OUTCOMES.index(outcome) > reached:
        action.outcome = outcome
    action.status = ActionStatus.DONE
    action.done_at = action.done_at or now


ACTION_COLUMNS = (
    "action_id",
    "priority",
    "status",
    "customer_id",
    "name",
    "email",
    "phone",
    "channel",
    "offer",
    "due_at",
    "why",
)


def export_actions(*, session: Session, out: TextIO, filters: ActionFilter) -> int:
    """The actions as CSV (safe for Excel)."""
    rows = (
        [
            a.id,
            a.priority,
            a.status,
            c.id,
            c.full_name,
            c.email,
            c.phone,
            a.channel,
            a.offer_description,
            a.due_at.isoformat(),
            "; ".join(a.reasons),
        ]
        for a, c in list_actions(session=session, filters=filters, limit=MAX_LIMIT)
    )
    return write_csv(out, ACTION_COLUMNS, rows)
