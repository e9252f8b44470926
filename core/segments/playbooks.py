"""Playbooks: ready-made liquor-store segments, each with the offer and timing that suit it.

One click turns a playbook into a rule-based segment; the planner reads the offers and timing,
and the liquor calendar (core.campaigns.retail_calendar) for what is coming up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import segments
from core.errors import NotFound
from core.models import Segment
from core.permissions import Actor


@dataclass(frozen=True)
class Offer:
    kind: str
    """percent_off, amount_off, bundle, early_access or gift"""
    value: float
    description: str


@dataclass(frozen=True)
class Playbook:
    key: str
    name: str
    why: str
    rules: dict[str, Any]
    offer: Offer
    timing: str
    weekday: int | None
    """The best day for the send (0 = Monday), or None for the first day of the campaign."""
    send_time: str
    """HH:MM local time of the send."""
    category: str | None = None
    """What the offer is on; None: each customer's favourite."""
    channels: tuple[str, ...] = ("email",)
    moments: tuple[str, ...] = field(default=())
    """Retail calendar moments this playbook is made for (named as in
    core.campaigns.retail_calendar)."""


def _all(*conditions: dict[str, Any]) -> dict[str, Any]:
    return {"match": "all", "conditions": list(conditions)}


PLAYBOOKS = (
    Playbook(
        "lapsed-wine",
        "Lapsed wine lovers",
        "Wine is their favourite, but they have not been in for two months or more.",
        _all(
            {"field": "preferred_category", "op": "in", "value": ["wine"]},
            {"field": "last_order", "op": "not_in_last_days", "value": 60},
            {"field": "last_order", "op": "in_last_days", "value": 365},
        ),
        Offer("percent_off", 15, "15% off a mixed case of six bottles"),
        "Thursday afternoon, before weekend dinner plans are made",
        3,
        "15:00",
        "wine",
    ),
    Playbook(
        "weekend-craft-beer",
        "Weekend craft-beer regulars",
        "Bought beer recently and come in often: the first to hear about new releases.",
        _all(
            {"field": "bought_category", "op": "bought", "value": "beer", "days": 60},
            {"field": "orders_in_last", "op": "gte", "value": 3, "days": 60},
        ),
        Offer("early_access", 0, "First pick of this week's new local releases"),
        "Friday at 3 pm",
        4,
        "15:00",
        "beer",
        ("email", "sms"),
    ),
    Playbook(
        "holiday-spirits",
        "High-value spirits collectors",
        "Spirits fans worth the most: invite them before the holiday rush.",
        _all(
            {"field": "preferred_category", "op": "in", "value": ["spirits"]},
            {
                "match": "any",
                "conditions": [
                    {"field": "predicted_clv", "op": "gte", "value": 300},
                    {"field": "total_spent", "op": "gte", "value": 500},
                ],
            },
        ),
        Offer("early_access", 0, "Early access to allocated and limited bottles"),
        "Early December, a weekday evening",
        1,
        "18:00",
        "spirits",
        moments=("Holiday shopping", "Christmas Eve", "New Year's Eve"),
    ),
    Playbook(
        "second-purchase",
        "New customers' second purchase",
        "Bought once in the last 30 days: a second visit makes a regular.",
        _all(
            {"field": "order_count", "op": "eq", "value": 1},
            {"field": "first_order", "op": "in_last_days", "value": 30},
        ),
        Offer("amount_off", 5, "$5 off the next order of $40 or more"),
        "7 to 14 days after the first purchase",
        2,
        "11:00",
    ),
    Playbook(
        "game-day-beer",
        "Game-day beer buyers",
        "Beer plus party supplies in the last four months: they host.",
        _all(
            {"field": "bought_category", "op": "bought", "value": "beer", "days": 120},
            {
                "match": "any",
                "conditions": [
                    {"field": "bought_category", "op": "bought", "value": "mixers", "days": 120},
                    {
                        "field": "bought_category",
                        "op": "bought",
                        "value": "accessories",
                        "days": 120,
                    },
                ],
            },
        ),
        Offer("bundle", 10, "Game-day bundle: two 12-packs and a bag of ice, $10 off"),
        "Thursday before a big game",
        3,
        "16:00",
        "beer",
        ("email", "sms"),
        ("Super Bowl weekend (Friday)", "Super Bowl weekend (Saturday)", "Labor Day weekend"),
    ),
    Playbook(
        "birthday-month",
        "Birthday this month (21+)",
        "A birthday treat for verified adults, sent in their birthday month.",
        _all(
            {"field": "birthday_this_month", "op": "is_true"},
            {"field": "age", "op": "gte", "value": 21},
            {"field": "age_verified", "op": "is_true"},
        ),
        Offer("amount_off", 10, "$10 off any bottle this month"),
        "The first of the month, 10 am",
        None,
        "10:00",
    ),
    Playbook(
        "win-back",
        "Valuable customers slipping away",
        "Bought often and spent well, but have gone quiet: worth a real offer.",
        _all({"field": "rfm_segment", "op": "in", "value": ["At Risk", "Can't Lose Them"]}),
        Offer("percent_off", 20, "20% off their favourite category, this week only"),
        "Tuesday or Wednesday, mid-morning",
        1,
        "10:30",
        None,
        ("email", "sms"),
    ),
    Playbook(
        "champions",
        "Champions (VIP)",
        "Your best customers: recent, frequent, big spenders.",
        _all({"field": "rfm_segment", "op": "in", "value": ["Champions"]}),
        Offer("early_access", 0, "VIP tasting invitation and first look at new arrivals"),
        "Two weeks before a tasting event",
        3,
        "17:00",
    ),
)
BY_KEY = {playbook.key: playbook for playbook in PLAYBOOKS}


def get_playbook(key: str) -> Playbook:
    if key not in BY_KEY:
        raise NotFound(f"There is no playbook '{key}'.")
    return BY_KEY[key]


def used(*, session: Session) -> set[str]:
    """Playbooks that already have a segment (found by the name they create)."""
    names = set(session.scalars(select(Segment.name)))
    return {p.key for p in PLAYBOOKS if p.name in names}


def for_segment_name(name: str) -> Playbook | None:
    """The playbook a segment was made from (segments keep the playbook's name)."""
    return next((p for p in PLAYBOOKS if p.name == name), None)


def create_from_playbook(*, session: Session, actor: Actor, key: str, now: datetime) -> Segment:
    playbook = get_playbook(key)
    return segments.create_segment(
        session=session,
        actor=actor,
        now=now,
        name=playbook.name,
        description=f"{playbook.why} Offer: {playbook.offer.description}. When: {playbook.timing}.",
        rules=playbook.rules,
    )
