"""A campaign plan — the sends of a week — and the checks every plan passes, whoever wrote it.

A plan from the AI, the heuristic or a person goes through `check_plan`, which repairs what it
safely can (a text at 21:30 moves to 19:30, a 40% discount comes down to the cap, reach and cost
are recounted from the database) and drops what it cannot (an unknown segment, a day outside the
campaign), saying what it changed. A plan with nothing valid left is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.compliance import content
from core.compliance.decision import reachable
from core.compliance.policy import Policy, Window, banned_offer, strictest_sms_window
from core.errors import ValidationError
from core.models import Channel, Customer, SegmentMember

MAX_SENDS = 21


class OfferKind(StrEnum):
    PERCENT_OFF = "percent_off"
    AMOUNT_OFF = "amount_off"
    BUNDLE = "bundle"
    EARLY_ACCESS = "early_access"
    GIFT = "gift"
    NONE = "none"


def describe_offer(kind: str, value: float, category: str | None) -> str:
    """The offer in words, made from its checked fields (never from a model's own text)."""
    on = f" {category}" if category else ""
    return {
        "percent_off": f"{value:g}% off{on}",
        "amount_off": f"${value:g} off{on}",
        "bundle": f"${value:g} off a{on} bundle",
        "early_access": f"early access{(' to' + on) if on else ''}",
        "gift": f"a gift with{on or ' any'} purchase",
        "none": "no offer",
    }.get(kind, kind)


class PlannedSend(BaseModel):
    model_config = ConfigDict(extra="ignore")

    day: date = Field(description="The day of the send, YYYY-MM-DD, inside the campaign's dates.")
    local_time: str = Field(
        pattern=r"^([01]\d|2[0-3]):[0-5]\d$",
        description="HH:MM in each recipient's own time zone.",
    )
    segment_id: int = Field(description="The id of one of the segments given.")
    channel: Channel
    offer_kind: OfferKind = OfferKind.NONE
    offer_value: float = Field(
        default=0, ge=0, description="Percent for percent_off, dollars for amount_off and bundle."
    )
    offer_category: str | None = Field(
        default=None, description="wine, beer, spirits, mixers or accessories, or null for any."
    )
    offer_description: str = Field(default="", max_length=200)
    angle: str = Field(default="", max_length=500, description="The message's idea in a line.")
    template_id: int | None = Field(
        default=None,
        description="The template_id of one of the store's templates for this channel, or null "
        "for the store's default of the campaign's type.",
    )
    expected_reach: int = Field(default=0, ge=0)
    expected_cost_cents: int = Field(default=0, ge=0)


class Plan(BaseModel):
    model_config = ConfigDict(extra="ignore")

    summary: str = Field(default="", max_length=1000, description="Why this plan, in a few lines.")
    sends: list[PlannedSend] = Field(min_length=1, max_length=MAX_SENDS)

    def total_cost_cents(self) -> int:
        return sum(send.expected_cost_cents for send in self.sends)


@dataclass(frozen=True)
class Audience:
    """A segment as the planner sees it."""

    segment_id: int
    name: str
    description: str
    members: int
    reach: dict[str, int]
    """Customers who may be messaged on each channel (after consent, age and exclusions)."""
    mix: dict[str, Any] = field(default_factory=dict)
    """Churn risk, RFM and favourite-category shares, average predicted value."""
    playbook: str | None = None


@dataclass(frozen=True)
class TemplateChoice:
    """One of the store's templates, as a plan may pick it."""

    template_id: int
    name: str
    channel: str
    campaign_type: str | None


@dataclass(frozen=True)
class PlanContext:
    """Everything a plan is made from and checked against."""

    store_name: str
    store_state: str
    timezone: str
    start: date
    end: date
    """The last day of the campaign (inclusive)."""
    goal: str
    campaign_type: str
    channels: tuple[str, ...]
    audiences: tuple[Audience, ...]
    excluded_segment_ids: tuple[int, ...]
    budget_cents: int | None
    max_discount_percent: int
    average_order_cents: int
    unit_cost_cents: dict[str, float]
    policy: Policy
    moments: tuple[tuple[str, str, tuple[str, ...]], ...] = ()
    """(ISO date, name, categories that sell) of retail moments in or near the campaign."""
    past_results: tuple[dict[str, Any], ...] = ()
    as_of: date | None = None
    templates: tuple[TemplateChoice, ...] = ()
    """The store's templates, newest first."""

    def template_for(self, channel: str) -> int | None:
        """The newest template of this campaign's type for `channel` (a marketer's own one
        before the defaults it was made after), or None: the default at send time."""
        return next(
            (
                t.template_id
                for t in self.templates
                if t.channel == channel and t.campaign_type == self.campaign_type
            ),
            None,
        )

    def audience(self, segment_id: int) -> Audience | None:
        return next((a for a in self.audiences if a.segment_id == segment_id), None)

    def days(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range((self.end - self.start).days + 1)]


@dataclass
class CheckedPlan:
    plan: Plan
    repairs: list[str]
    """What was changed or dropped, one sentence each."""


def check_plan(*, session: Session, plan: Plan, context: PlanContext) -> CheckedPlan:
    """Repair or drop what breaks the rules; raise ValidationError when nothing valid is left."""
    plan = Plan.model_validate(plan.model_dump())  # a copy edited in place skips validation
    repairs: list[str] = []
    kept: list[PlannedSend] = []
    for number, send in enumerate(plan.sends, start=1):
        fixed = _check_send(send, number, context, repairs)
        if fixed is not None:
            kept.append(fixed)
    kept.sort(key=lambda s: (s.day, s.local_time))
    kept = _within_frequency_cap(session, kept, context, repairs)
    kept = _within_budget(kept, context, repairs)
    if not kept:
        raise ValidationError("No send in the plan could be kept: " + " ".join(repairs))
    return CheckedPlan(Plan(summary=plan.summary, sends=kept), repairs)


def _check_send(
    send: PlannedSend, number: int, context: PlanContext, repairs: list[str]
) -> PlannedSend | None:
    where = f"Send {number}"
    audience = context.audience(send.segment_id)
    if audience is None:
        repairs.append(f"{where} dropped: segment #{send.segment_id} is not in this campaign.")
        return None
    if send.channel not in context.channels:
        repairs.append(f"{where} dropped: the campaign does not use {send.channel.value}.")
        return None
    if not context.start <= send.day <= context.end:
        repairs.append(
            f"{where} dropped: {send.day} is outside the campaign "
            f"({context.start} to {context.end})."
        )
        return None
    changes: dict[str, Any] = {}
    hours = (
        strictest_sms_window(context.policy)
        if send.channel == Channel.SMS
        else context.policy.email_hours
    )
    moved = _inside(send.local_time, hours)
    if moved != send.local_time:
        changes["local_time"] = moved
        repairs.append(
            f"{where} moved from {send.local_time} to {moved}: "
            f"{send.channel.value} goes out {hours.start:%H:%M}–{hours.end:%H:%M} local time."
        )
    changes |= _offer_within_limits(send, where, context, repairs)
    if send.template_id is not None and not any(
        t.template_id == send.template_id and t.channel == send.channel.value
        for t in context.templates
    ):
        repairs.append(
            f"{where}: template #{send.template_id} is not one of the store's "
            f"{send.channel.value} templates; the default is used."
        )
        changes["template_id"] = None
    changes["offer_description"] = _offer_in_words(send.model_copy(update=changes), where, repairs)
    if barred := content.blocking(content.lint([("angle", send.angle)])):
        changes["angle"] = ""
        repairs.append(
            f"{where}: the angle “{send.angle[:80]}” dropped: "
            + "; ".join(f'"{f.words}" {f.why}' for f in barred)
            + " (not allowed in an alcohol ad)."
        )
    reach = audience.reach.get(send.channel.value, 0)
    if reach == 0:
        repairs.append(f"{where} dropped: nobody in “{audience.name}” can get {send.channel}.")
        return None
    changes["expected_reach"] = reach
    changes["expected_cost_cents"] = round(reach * context.unit_cost_cents[send.channel.value])
    return send.model_copy(update=changes)


def _inside(local_time: str, hours: Window) -> str:
    """The time itself if inside the window; else its start (too early) or an hour before its
    end (too late), so the send still lands in the evening it was meant for."""
    moment = time.fromisoformat(local_time)
    if moment in hours:
        return local_time
    if moment < hours.start:
        return f"{hours.start:%H:%M}"
    latest = datetime.combine(date.min, hours.end) - timedelta(hours=1)
    return f"{latest:%H:%M}"


def _offer_within_limits(
    send: PlannedSend, where: str, context: PlanContext, repairs: list[str]
) -> dict[str, Any]:
    if why := banned_offer(context.policy, context.store_state, send.offer_kind):
        repairs.append(f"{where}: its offer dropped: {why}.")
        return {
            "offer_kind": OfferKind.NONE,
            "offer_value": 0.0,
            "offer_category": None,
            "offer_description": "",
        }
    cap = context.max_discount_percent
    if send.offer_kind == OfferKind.PERCENT_OFF and send.offer_value > cap:
        repairs.append(f"{where}: {send.offer_value:g}% off lowered to the {cap}% limit.")
        return {"offer_value": float(cap)}
    if send.offer_kind in (OfferKind.AMOUNT_OFF, OfferKind.BUNDLE, OfferKind.GIFT):
        most = round(context.average_order_cents * cap / 100 / 100)
        if send.offer_value > most:
            worth = "a gift worth" if send.offer_kind == OfferKind.GIFT else "off"
            repairs.append(
                f"{where}: ${send.offer_value:g} {worth} lowered to ${most}, {cap}% of an "
                "average order."
            )
            return {"offer_value": float(most)}
    if send.offer_kind in (OfferKind.EARLY_ACCESS, OfferKind.NONE) and send.offer_value:
        return {"offer_value": 0.0}
    return {}


_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def _offer_in_words(send: PlannedSend, where: str, repairs: list[str]) -> str:
    """What customers read is built from the checked kind, value and category, so it can only
    promise what the send gives; a given text that named other numbers is reported."""
    words = describe_offer(send.offer_kind, send.offer_value, send.offer_category)[:200]
    given = send.offer_description.strip()
    if given and {float(n) for n in _NUMBER.findall(given)} - {send.offer_value}:
        repairs.append(f"{where}: the offer text “{given[:80]}” replaced by “{words}”.")
    return words


def _within_frequency_cap(
    session: Session, sends: list[PlannedSend], context: PlanContext, repairs: list[str]
) -> list[PlannedSend]:
    """Keep sends in time order; drop one when most of its audience already has the week's
    allowance of messages from the sends before it. Customers over the cap on a kept send are
    skipped when it goes out (the sender checks again)."""
    policy = context.policy
    members = {
        segment_id: np.fromiter(
            session.scalars(
                select(SegmentMember.customer_id).where(SegmentMember.segment_id == segment_id)
            ),
            dtype=np.int64,
        )
        for segment_id in {s.segment_id for s in sends}
    }
    everyone = np.unique(np.concatenate([np.zeros(0, np.int64), *members.values()]))
    counts = {c.value: np.zeros(len(everyone), dtype=np.int32) for c in Channel}
    kept = []
    for send in sends:
        channel = send.channel.value
        index = np.searchsorted(everyone, members[send.segment_id])
        total = sum(c[index] for c in counts.values())
        full = (total >= policy.frequency_cap_per_week) | (
            counts[channel][index] >= policy.cap_for(channel)
        )
        if len(index) and full.mean() > 0.5:
            name = context.audience(send.segment_id).name  # type: ignore[union-attr]
            repairs.append(
                f"The {send.day} {channel} send to “{name}” dropped: {full.mean():.0%} of its "
                f"customers would already have their {policy.frequency_cap_per_week} messages "
                f"this week (at most {policy.cap_for(channel)} by {channel})."
            )
            continue
        counts[channel][index] += 1
        kept.append(send)
    return kept


def _within_budget(
    sends: list[PlannedSend], context: PlanContext, repairs: list[str]
) -> list[PlannedSend]:
    """Drop the costliest sends (per customer reached, then latest) until the plan fits."""
    if context.budget_cents is None:
        return sends
    kept = list(sends)
    while kept and sum(s.expected_cost_cents for s in kept) > context.budget_cents:
        costliest = max(
            kept, key=lambda s: (s.expected_cost_cents / max(s.expected_reach, 1), s.day)
        )
        kept.remove(costliest)
        repairs.append(
            f"The {costliest.day} {costliest.channel.value} send dropped to stay within the "
            f"${context.budget_cents / 100:,.2f} budget."
        )
    return kept


def reach_by_channel(
    *, session: Session, segment_id: int, excluded: tuple[int, ...], today: date
) -> dict[str, int]:
    """Members of a segment who may be messaged on each channel, leaving out the members of
    `excluded` segments."""
    out: dict[str, int] = {}
    for channel in Channel:
        query = (
            select(func.count())
            .select_from(SegmentMember)
            .join(Customer, Customer.id == SegmentMember.customer_id)
            .where(SegmentMember.segment_id == segment_id, reachable(channel, today))
        )
        if excluded:
            left_out = select(SegmentMember.customer_id).where(
                SegmentMember.segment_id.in_(excluded)
            )
            query = query.where(SegmentMember.customer_id.not_in(left_out))
        out[channel.value] = session.scalar(query) or 0
    return out
