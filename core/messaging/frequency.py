"""The weekly frequency cap across every campaign: per customer, per channel and overall, over a
rolling 7 days (the store's policy, the number the HELP reply promises).

It is checked twice. When a step's messages are written, a customer whose messages already
planned or sent around that time fill their allowance gets theirs stopped at once, with the
reason. Right before sending, the sender counts again what went out or is on its way: a
message the sender accepted carries the provider it goes through while it is `sending` (a claim
clears it), so messages claimed but not yet decided on do not count. Deciding holds a lock per
customer (an advisory lock on PostgreSQL; SQLite has one writer at a time), so two workers
never both give the same customer the last message of their allowance.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, func, or_, select, text
from sqlalchemy.orm import Session

from core.compliance import Decision, Policy, Verdict, next_allowed_send, states_of
from core.models import Channel, Customer, Message, MessageStatus

WINDOW = timedelta(days=7)
GOING_OUT = (MessageStatus.SENDING, MessageStatus.SENT, MessageStatus.DELIVERED)
PLANNED = (MessageStatus.QUEUED, *GOING_OUT)
MARKETING = and_(Message.campaign_id.is_not(None), Message.customer_id.is_not(None))
"""Campaign messages to customers: a template test to a staff member never counts."""

Counts = dict[int, Counter[str]]
"""Messages per customer, by channel."""


def sent_recently(
    *, session: Session, customer_ids: Iterable[int], now: datetime, leaving_out: Iterable[int]
) -> Counts:
    """Messages sent in the 7 days before `now`, or being sent, per customer and channel
    (`leaving_out`: the messages being decided on now)."""
    return _counts(
        session,
        customer_ids,
        Message.id.not_in(list(leaving_out) or [-1]),
        Message.status.in_(GOING_OUT),
        or_(
            and_(Message.status == MessageStatus.SENDING, Message.provider.is_not(None)),
            Message.sent_at >= now - WINDOW,
        ),
    )


LOCK_SPACE = 0x4C43_4643
"""The first key of the customers' frequency locks ("LCFC"), apart from any other lock."""


def lock_customers(*, session: Session, customer_ids: Iterable[int]) -> None:
    """Hold every given customer's frequency lock until the transaction ends, taken in id
    order so two workers never wait on each other in a circle. SQLite needs none."""
    wanted = sorted(set(customer_ids))
    if not wanted or session.get_bind().dialect.name != "postgresql":
        return
    session.execute(
        text(
            "SELECT pg_advisory_xact_lock(:space, (id % 2147483647)::int) "
            "FROM (SELECT unnest(CAST(:ids AS bigint[])) AS id ORDER BY 1) AS wanted"
        ),
        {"space": LOCK_SPACE, "ids": wanted},
    )


def planned_around(
    *, session: Session, customer_ids: Iterable[int], first: datetime, last: datetime
) -> Counts:
    """Messages queued or sent for the 7 days before `first` up to `last` (a step's sends are
    spread between those two moments by time zone), per customer and channel."""
    return _counts(
        session,
        customer_ids,
        Message.status.in_(PLANNED),
        func.coalesce(Message.sent_at, Message.send_after) > first - WINDOW,
        func.coalesce(Message.sent_at, Message.send_after) <= last,
    )


def over_cap(policy: Policy, counts: Counter[str], channel: str) -> str | None:
    """Why one more `channel` message would break the cap, or None."""
    if counts[channel] >= policy.cap_for(channel):
        words = "texts" if channel == Channel.SMS.value else "emails"
        return f"frequency cap: {counts[channel]} {words} in 7 days already"
    if sum(counts.values()) >= policy.frequency_cap_per_week:
        return f"frequency cap: {sum(counts.values())} messages in 7 days already"
    return None


# --- the same subject, where a state caps it ---------------------------------------------------

SUBJECT_WINDOW = timedelta(hours=24)

Subjects = dict[tuple[int, int], list[datetime]]
"""When each customer was texted by each campaign (a campaign is one subject), by customer and
campaign."""


def texts_by_subject(
    *, session: Session, customer_ids: Iterable[int], now: datetime, leaving_out: Iterable[int]
) -> Subjects:
    """Texts sent in the 24 hours before `now`, or being sent (counted as sent now), per
    customer and campaign (`leaving_out`: the messages being decided on now)."""
    wanted = sorted(set(customer_ids))
    found: Subjects = {}
    for start in range(0, len(wanted), 5_000):
        rows = session.execute(
            select(Message.customer_id, Message.campaign_id, Message.sent_at).where(
                MARKETING,
                Message.channel == Channel.SMS.value,
                Message.customer_id.in_(wanted[start : start + 5_000]),
                Message.id.not_in(list(leaving_out) or [-1]),
                Message.status.in_(GOING_OUT),
                or_(
                    and_(Message.status == MessageStatus.SENDING, Message.provider.is_not(None)),
                    Message.sent_at >= now - SUBJECT_WINDOW,
                ),
            )
        )
        for customer_id, campaign_id, sent_at in rows:
            if customer_id is not None and campaign_id is not None:  # MARKETING: never None
                found.setdefault((customer_id, campaign_id), []).append(sent_at or now)
    return found


def same_subject_deferral(
    policy: Policy,
    customer: Customer,
    sent: list[datetime],
    now: datetime,
    zones: tuple[ZoneInfo, ZoneInfo | None],
) -> Decision | None:
    """Where the customer's states cap texts on one subject, and `sent` (this campaign's texts
    to them in the last 24 hours) fills the cap: wait until the oldest that counts is a day old,
    then for the next minute their hours allow (in their zone and their number's)."""
    states = states_of(customer.state, customer.phone)
    capped = sorted(states & set(policy.same_subject_sms_states))
    cap = policy.same_subject_sms_cap
    if not capped or len(sent) < cap:
        return None
    frees_up = sorted(sent)[len(sent) - cap] + SUBJECT_WINDOW
    zone, phone_zone = zones  # theirs, and their number's when known
    at = next_allowed_send(
        max(frees_up, now),
        zone=zone,
        states=states,
        policy=policy,
        also_in=[phone_zone] if phone_zone else [],
    )
    return Decision(
        Verdict.DEFER,
        f"same-subject cap ({', '.join(capped)}): {len(sent)} texts on this campaign in 24 h; "
        f"moved to {at.astimezone(zone):%a %H:%M} their time",
        at,
    )


def _counts(
    session: Session, customer_ids: Iterable[int], *conditions: ColumnElement[bool]
) -> Counts:
    wanted = sorted(set(customer_ids))
    found: Counts = {}
    for start in range(0, len(wanted), 5_000):
        rows = session.execute(
            select(Message.customer_id, Message.channel, func.count())
            .where(
                MARKETING,
                Message.customer_id.in_(wanted[start : start + 5_000]),
                *conditions,
            )
            .group_by(Message.customer_id, Message.channel)
        )
        for customer_id, channel, count in rows:
            if customer_id is not None:  # MARKETING rules it out; the type cannot tell
                found.setdefault(customer_id, Counter())[str(channel)] = count
    return found
