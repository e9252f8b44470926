"""A campaign's pre-flight report: before anything is sent, who it will reach, who the law or
the store's rules keep out and why, and whose texts will wait for their quiet hours to end.

The same rules decide every message at send time (core.compliance.decide); this counts them
ahead, as SQL over the whole audience, so a million members cost a handful of grouped queries.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, time
from typing import Any

from sqlalchemy import ColumnElement, SQLColumnExpression, and_, case, exists, func, or_, select
from sqlalchemy.orm import Session

from core.compliance import AREA_CODE_STATES, CANADIAN_AREA_CODES, Policy, get_policy, sms_window
from core.compliance.age import adult_birth_cutoff
from core.models import Campaign, Channel, ContactStatus, Customer, SegmentMember, Suppression

ELIGIBLE = "eligible"
_WA_AREA_CODES = sorted(code for code, state in AREA_CODE_STATES.items() if state == "WA")


@dataclass(frozen=True)
class ChannelCheck:
    """One channel's audience: how many may get it, and why the others may not."""

    channel: str
    eligible: int
    excluded: dict[str, int]
    deferred: int = 0
    """Texts that will wait for the end of the recipient's quiet hours (state windows, Sundays)."""


@dataclass(frozen=True)
class Preflight:
    members: int
    """In the chosen segments."""
    left_out: int
    """Also in an excluded segment."""
    eligible: int
    """May get the campaign on at least one of its channels."""
    excluded: dict[str, int]
    """The others, by reason (their reasons on every channel)."""
    channels: list[ChannelCheck] = field(default_factory=list)

    @property
    def deferred(self) -> int:
        return sum(check.deferred for check in self.channels)

    def sentence(self) -> str:
        """ "4,812 eligible; 212 excluded: 120 no SMS consent, 21 suppressed …"."""
        said = f"{self.eligible:,} eligible"
        if excluded := sum(self.excluded.values()):
            reasons = ", ".join(f"{n:,} {why}" for why, n in _biggest_first(self.excluded))
            said += f"; {excluded:,} excluded: {reasons}"
        if self.left_out:
            said += f"; {self.left_out:,} left out by the excluded segments"
        if self.deferred:
            said += f"; {self.deferred:,} texts deferred past quiet hours"
        return said

    def as_dict(self) -> dict[str, Any]:
        return {
            "members": self.members,
            "left_out": self.left_out,
            "eligible": self.eligible,
            "excluded": dict(_biggest_first(self.excluded)),
            "deferred": self.deferred,
            "channels": [
                {
                    "channel": c.channel,
                    "eligible": c.eligible,
                    "excluded": dict(_biggest_first(c.excluded)),
                    "deferred": c.deferred,
                }
                for c in self.channels
            ],
            "summary": self.sentence(),
        }


def preflight(*, session: Session, campaign: Campaign, today: date) -> Preflight:
    """Count the campaign's audience by what the compliance rules say of each member on each
    of its channels, on `today` (ages move with it)."""
    chosen = select(SegmentMember.customer_id).where(
        SegmentMember.segment_id.in_(campaign.segment_ids or [-1])
    )
    left_out = select(SegmentMember.customer_id).where(
        SegmentMember.segment_id.in_(campaign.excluded_segment_ids or [-1])
    )
    channels = [Channel(c) for c in campaign.channels]
    each = (
        select(
            Customer.id.not_in(left_out).label("kept"),
            *(_verdict(channel, today).label(channel.value) for channel in channels),
        )
        .where(Customer.id.in_(chosen))
        .subquery()
    )
    columns = [each.c.kept, *(each.c[channel.value] for channel in channels)]
    rows = session.execute(select(*columns, func.count()).group_by(*columns)).all()
    members = sum(row[-1] for row in rows)
    kept_rows = [row for row in rows if row[0]]
    by_person: Counter[str] = Counter()
    by_channel = {channel: Counter[str]() for channel in channels}
    for row in kept_rows:
        reasons, count = row[1:-1], row[-1]
        for channel, reason in zip(channels, reasons, strict=True):
            by_channel[channel][reason] += count
        if ELIGIBLE in reasons:
            by_person[ELIGIBLE] += count
        else:
            by_person[" and ".join(dict.fromkeys(reasons))] += count
    eligible = by_person.pop(ELIGIBLE, 0)
    checks = []
    for channel in channels:
        counts = by_channel[channel]
        ok = counts.pop(ELIGIBLE, 0)
        deferred = (
            _deferred_texts(session, campaign, chosen, left_out, today, get_policy(session=session))
            if channel == Channel.SMS
            else 0
        )
        checks.append(ChannelCheck(channel.value, ok, dict(counts), deferred))
    return Preflight(
        members=members,
        left_out=members - sum(row[-1] for row in kept_rows),
        eligible=eligible,
        excluded=dict(by_person),
        channels=checks,
    )


def _verdict(channel: Channel, today: date) -> ColumnElement[str]:
    """The first rule that keeps a customer from `channel`, in words, else ELIGIBLE: the order
    of core.compliance.decide."""
    address: SQLColumnExpression[str | None]
    if channel == Channel.EMAIL:
        address = func.lower(Customer.email)
        checks: list[tuple[ColumnElement[bool], str]] = [
            (Customer.email.is_(None), "no email address"),
            (Customer.email_opt_in.is_not(True), "no email consent"),
        ]
        status = Customer.email_status
    else:
        address = Customer.phone
        area = func.substr(Customer.phone, 3, 3)
        checks = [
            (or_(Customer.phone.is_(None), ~Customer.phone.like("+1%")), "no US mobile number"),
            (area.in_(CANADIAN_AREA_CODES), "a Canadian number"),
            (Customer.sms_opt_in.is_not(True), "no SMS consent"),
            (
                and_(
                    or_(Customer.state == "WA", area.in_(_WA_AREA_CODES)),
                    Customer.sms_opt_in_at.is_(None),
                ),
                "Washington: no recorded consent",
            ),
        ]
        status = Customer.sms_status
    suppressed = or_(
        status == ContactStatus.SUPPRESSED,
        exists().where(Suppression.channel == channel.value, Suppression.address == address),
    )
    return case(
        (Customer.deleted_at.is_not(None), "deleted"),
        (Customer.birth_date.is_(None), "unverified age"),
        (Customer.birth_date > adult_birth_cutoff(today), "under 21"),
        *checks,
        (suppressed, "suppressed"),
        else_=ELIGIBLE,
    )


def _deferred_texts(
    session: Session,
    campaign: Campaign,
    chosen: Any,
    left_out: Any,
    today: date,
    policy: Policy,
) -> int:
    """Eligible text recipients with at least one of the campaign's texts planned at a local
    time (or on a day) their states' rules do not allow: they get it when the window opens."""
    texts = [s for s in campaign.steps if s.channel == Channel.SMS]
    if not texts:
        return 0
    eligible = (
        select(Customer.state.label("state"), func.substr(Customer.phone, 3, 3).label("area"))
        .where(
            Customer.id.in_(chosen),
            Customer.id.not_in(left_out),
            _verdict(Channel.SMS, today) == ELIGIBLE,
        )
        .subquery()
    )
    groups = session.execute(
        select(eligible.c.state, eligible.c.area, func.count()).group_by(
            eligible.c.state, eligible.c.area
        )
    ).all()
    deferred = 0
    for state, area, count in groups:
        states = {s for s in (state, AREA_CODE_STATES.get(area)) if s}
        window = sms_window(policy, states)
        no_sunday = bool(states & set(policy.no_sunday_sms_states))
        if any(
            time.fromisoformat(step.local_time) not in window
            or (no_sunday and step.day.weekday() == 6)
            for step in texts
        ):
            deferred += count
    return deferred


def _biggest_first(counts: dict[str, int]) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))
