"""Who may be messaged (as SQL, for audiences), and whether one message may go now (at send
time)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, SQLColumnExpression, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from core.compliance.age import adult_birth_cutoff
from core.compliance.policy import (
    CANADIAN_AREA_CODES,
    Policy,
    area_code,
    next_allowed_send,
    states_of,
)
from core.models import Channel, Customer, Suppression

# --- who -----------------------------------------------------------------------------------


def reachable(channel: Channel | str, today: date) -> ColumnElement[bool]:
    """Customers a marketing message may go to on `channel` today (their address or number not
    on the suppression list)."""
    adult = and_(Customer.birth_date.is_not(None), Customer.birth_date <= adult_birth_cutoff(today))
    channel = Channel(channel)
    address: SQLColumnExpression[str | None]
    consented: SQLColumnExpression[bool]
    if channel == Channel.EMAIL:
        address = func.lower(Customer.email)
        consented = Customer.can_email
    else:
        address = Customer.phone
        consented = and_(
            Customer.can_text,
            Customer.phone.like("+1%"),
            func.substr(Customer.phone, 3, 3).not_in(CANADIAN_AREA_CODES),
        )
    suppressed = exists().where(
        Suppression.channel == channel.value, Suppression.address == address
    )
    return and_(Customer.deleted_at.is_(None), adult, consented, ~suppressed)


def reachable_anyhow(channels: Iterable[Channel | str], today: date) -> ColumnElement[bool]:
    return or_(*(reachable(channel, today) for channel in channels))


def reachable_channels(
    *, session: Session, customer_ids: Iterable[int], today: date
) -> dict[int, list[Channel]]:
    """The channels marketing may use for each of these customers today: the same rule
    campaigns and the dashboard count by, for a page of customers."""
    ids = list(customer_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(
            Customer.id,
            *(reachable(channel, today).label(channel.value) for channel in Channel),
        ).where(Customer.id.in_(ids))
    )
    return {row.id: [channel for channel in Channel if getattr(row, channel.value)] for row in rows}


# --- this message, now ---------------------------------------------------------------------


class Verdict(StrEnum):
    SEND = "send"
    DEFER = "defer"
    BLOCK = "block"


@dataclass(frozen=True)
class Decision:
    """What the rules say about one message at one moment, and why."""

    verdict: Verdict
    reason: str = ""
    send_at: datetime | None = None
    """For a deferral: the first moment it may go."""


SEND = Decision(Verdict.SEND)


def decide(
    *,
    customer: Customer,
    channel: Channel | str,
    now: datetime,
    policy: Policy,
    zone: ZoneInfo,
    suppressed: str | None = None,
    phone_zone: ZoneInfo | None = None,
) -> Decision:
    """May this marketing message go to `customer` now? Checked by the sender right before
    every send, so a consent withdrawn or a birthday misread after planning still counts.

    `suppressed` is the reason the address is on the suppression list, if it is; `zone` is the
    customer's own time zone (the store's when theirs is unknown); `phone_zone` their number's
    area code's, when known: a text must arrive inside the hours of both.
    """
    channel = Channel(channel)
    if customer.deleted_at is not None:
        return Decision(Verdict.BLOCK, "the customer was deleted")
    if customer.birth_date is None:
        return Decision(Verdict.BLOCK, "no date of birth on file: not verified 21+")
    if customer.birth_date > adult_birth_cutoff(now.astimezone(zone).date()):
        return Decision(Verdict.BLOCK, "under 21")
    if suppressed:
        return Decision(Verdict.BLOCK, f"the address is suppressed ({suppressed})")
    if channel == Channel.EMAIL:
        if not customer.email:
            return Decision(Verdict.BLOCK, "no email address")
        if not customer.can_email:
            return Decision(Verdict.BLOCK, "no email consent")
        return SEND
    if not customer.phone or not customer.phone.startswith("+1"):
        return Decision(Verdict.BLOCK, "no US mobile number")
    if area_code(customer.phone) in CANADIAN_AREA_CODES:
        return Decision(Verdict.BLOCK, "a Canadian number: no alcohol texts to Canada")
    if not customer.can_text:
        return Decision(Verdict.BLOCK, "no text-message consent")
    states = states_of(customer.state, customer.phone)
    if "WA" in states and customer.sms_opt_in_at is None:
        return Decision(Verdict.BLOCK, "Washington: no recorded advance consent")
    also_in = [phone_zone] if phone_zone is not None and phone_zone != zone else []
    allowed = next_allowed_send(now, zone=zone, states=states, policy=policy, also_in=also_in)
    if allowed > now:
        local = allowed.astimezone(zone)
        where = (
            f" ({allowed.astimezone(also_in[0]):%H:%M} where their number is from)"
            if also_in
            else ""
        )
        return Decision(
            Verdict.DEFER, f"quiet hours: moved to {local:%a %H:%M} their time{where}", allowed
        )
    return SEND
