"""What the providers tell us after a send: deliveries, opens, clicks, bounces, complaints,
unsubscribes, and the texts customers send back (STOP, HELP, START).

The HTTP routes (app.py) check each request's signature first and call these with the verified
payload. Every event is recorded once: a provider that delivers a webhook twice finds its event
id already taken (`Event.dedupe_key`) and nothing changes the second time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from core import campaigns
from core.campaigns import actions
from core.compliance import consent
from core.compliance.policy import get_policy
from core.db import upsert
from core.errors import ValidationError
from core.messaging import links, sms_signup, suppressions
from core.messaging.providers import Twilio
from core.models import (
    Campaign,
    CampaignStatus,
    Channel,
    Customer,
    Event,
    Message,
    MessageStatus,
    SuppressionReason,
    WebhookToken,
)
from core.permissions import SYSTEM
from core.store_profile import StoreProfile, get_store_profile

MAX_SIGNATURE_AGE = timedelta(minutes=10)
"""Mailgun signs a timestamp; an older signature is a replay."""
SOFT_BOUNCE_LIMIT = 3
"""Temporary failures of one address, in `SOFT_BOUNCE_WINDOW`, before it is suppressed."""
SOFT_BOUNCE_WINDOW = timedelta(days=30)
COMPLAINT_PAUSE_RATE = 0.001
COMPLAINT_MIN_SENT = 1000

STOP_WORDS = frozenset(
    {
        "STOP",
        "STOPALL",
        "STOP ALL",
        "UNSUBSCRIBE",
        "CANCEL",
        "END",
        "QUIT",
        "REVOKE",
        "OPTOUT",
        "OPT OUT",
        "OPT-OUT",
        "REMOVE",
    }
)
START_WORDS = frozenset({"START", "UNSTOP", "YES"})
HELP_WORDS = frozenset({"HELP", "INFO"})
_PLAIN_STOP = re.compile(
    r"\b(stop|unsubscribe|opt[- ]?out|remove me|no more)\b.*\b(text|texting|message|messages|"
    r"sms|me)\b|\b(stop|unsubscribe)\b",
    re.IGNORECASE,
)
"""Free text that plainly means stop, e.g. "please stop texting me"."""


# --- Mailgun ----------------------------------------------------------------------------------


def verify_mailgun(
    *, signing_key: str, timestamp: str, token: str, signature: str, now: datetime
) -> bool:
    """Mailgun's HMAC-SHA256 of timestamp + token with the webhook signing key, and fresh."""
    try:
        signed_at = datetime.fromtimestamp(int(timestamp), UTC)
    except (TypeError, ValueError, OverflowError):
        return False
    if abs(now - signed_at) > MAX_SIGNATURE_AGE:
        return False
    expected = hmac.new(signing_key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256)
    return hmac.compare_digest(expected.hexdigest(), signature or "")


MAX_TOKEN_LENGTH = 128


def claim_mailgun_token(*, session: Session, token: str, event_id: str, now: datetime) -> bool:
    """Whether a verified signature's token may be used with this event: it is new, or it came
    before with this same event (Mailgun retrying). False means the signature was lifted from
    another webhook and replayed with other data. Tokens older than the freshness window are
    forgotten: their signatures have expired anyway."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return False
    session.execute(delete(WebhookToken).where(WebhookToken.seen_at < now - 2 * MAX_SIGNATURE_AGE))
    session.execute(
        upsert(session)(WebhookToken)
        .values(token=token, event_id=event_id[:120], seen_at=now)
        .on_conflict_do_nothing(index_elements=["token"])
    )
    return (
        session.scalar(select(WebhookToken.event_id).where(WebhookToken.token == token))
        == (event_id[:120])
    )


def receive_mailgun_event(
    *, session: Session, token: str, event_data: dict[str, Any], now: datetime
) -> str | None:
    """A verified webhook: its event applied (see `handle_mailgun_event`), or None when its
    signature's token came before with another event (a replay; nothing is applied)."""
    event_id = str(event_data.get("id", ""))
    if not claim_mailgun_token(session=session, token=token, event_id=event_id, now=now):
        return None
    return handle_mailgun_event(session=session, event_data=event_data, now=now)


def handle_mailgun_event(*, session: Session, event_data: dict[str, Any], now: datetime) -> str:
    """Apply one verified Mailgun event received at `now`. Returns what was done, for the log
    and the reply."""
    kind = str(event_data.get("event", ""))
    event_id = str(event_data.get("id", ""))
    message = _message_for_mailgun(session, event_data)
    if message is None:
        return "ignored: not one of our messages"
    occurred = _timestamp(event_data.get("timestamp"), default=now)
    if not _first_time(session, f"mailgun:{event_id}", kind, message, occurred, event_data):
        return "duplicate"
    address = message.to_address
    if kind == "delivered":
        _advance(message, MessageStatus.DELIVERED)
        message.delivered_at = message.delivered_at or occurred
        _action_reached(session, message, kind, now)
    elif kind == "opened":
        message.opened_at = message.opened_at or occurred
        _action_reached(session, message, kind, now)
    elif kind == "clicked":
        message.clicked_at = message.clicked_at or occurred
        message.opened_at = message.opened_at or occurred  # a click proves the open
        _action_reached(session, message, kind, now)
    elif kind == "failed" and event_data.get("severity") == "permanent":
        message.status, message.failed_at = MessageStatus.BOUNCED, occurred
        message.error = _delivery_problem(event_data)
        suppressions.suppress(
            session=session,
            channel=Channel.EMAIL,
            address=address,
            reason=SuppressionReason.HARD_BOUNCE,
            detail=message.error,
            message_id=message.id,
        )
    elif kind == "failed":
        message.error = _delivery_problem(event_data)
        if _soft_bounces(session, message.customer_id, now) >= SOFT_BOUNCE_LIMIT:
            suppressions.suppress(
                session=session,
                channel=Channel.EMAIL,
                address=address,
                reason=SuppressionReason.SOFT_BOUNCES,
                detail=message.error,
                message_id=message.id,
            )
    elif kind in ("complained", "unsubscribed"):
        reason = (
            SuppressionReason.COMPLAINT if kind == "complained" else SuppressionReason.UNSUBSCRIBED
        )
        suppressions.opt_out(
            session=session,
            channel=Channel.EMAIL,
            address=address,
            reason=reason,
            source=f"mailgun {kind}",
            message_id=message.id,
            now=now,
        )
        if kind == "complained" and message.campaign_id is not None:
            _pause_on_complaints(session, message.campaign_id, now)
    else:
        return f"recorded: {kind}"
    return f"applied: {kind}"


def _pause_on_complaints(session: Session, campaign_id: int, now: datetime) -> None:
    """Gmail and Yahoo want complaints under 0.3%: a running campaign pauses above 0.1%, once
    enough has gone out for the rate to mean something."""
    sent = session.execute(
        select(func.count())
        .select_from(Message)
        .where(
            Message.campaign_id == campaign_id,
            Message.channel == Channel.EMAIL.value,
            Message.sent_at.is_not(None),
        )
    ).scalar_one()
    complaints = session.execute(
        select(func.count())
        .select_from(Event)
        .where(Event.campaign_id == campaign_id, Event.type == "email.complained")
    ).scalar_one()
    campaign = session.get(Campaign, campaign_id)
    if sent < COMPLAINT_MIN_SENT or complaints / sent <= COMPLAINT_PAUSE_RATE:
        return
    if campaign is not None and campaign.status == CampaignStatus.RUNNING:
        campaigns.transition(
            session=session,
            actor=SYSTEM,
            campaign_id=campaign_id,
            to=CampaignStatus.PAUSED,
            now=now,
            note=f"Paused by itself: {complaints} spam complaints from {sent:,} emails "
            f"({complaints / sent:.2%}, above {COMPLAINT_PAUSE_RATE:.1%}). Check the audience "
            "and the message before resuming.",
        )


def _message_for_mailgun(session: Session, event_data: dict[str, Any]) -> Message | None:
    key = (event_data.get("user-variables") or {}).get("message_key")
    if key:
        return session.scalar(select(Message).where(Message.key == str(key)))
    provider_id = ((event_data.get("message") or {}).get("headers") or {}).get("message-id")
    if provider_id:
        return session.scalar(
            select(Message).where(Message.provider_message_id == str(provider_id).strip("<>"))
        )
    return None


def _delivery_problem(event_data: dict[str, Any]) -> str:
    status = event_data.get("delivery-status") or {}
    text = status.get("description") or status.get("message") or event_data.get("reason") or ""
    code = status.get("code")
    return f"{code} {text}".strip()[:300] if code else str(text)[:300]


def _soft_bounces(session: Session, customer_id: int | None, now: datetime) -> int:
    since = now - SOFT_BOUNCE_WINDOW
    return session.execute(
        select(func.count())
        .select_from(Event)
        .where(
            Event.type == "email.failed",
            Event.customer_id == customer_id,
            Event.occurred_at >= since,
        )
    ).scalar_one()


# --- Twilio -----------------------------------------------------------------------------------


def verify_twilio(*, auth_token: str, url: str, params: dict[str, str], signature: str) -> bool:
    from twilio.request_validator import RequestValidator

    return bool(RequestValidator(auth_token).validate(url, params, signature or ""))


def handle_twilio_status(*, session: Session, params: dict[str, str], now: datetime) -> str:
    """A status callback, received at `now`, for a text we sent: delivered, undelivered or
    failed."""
    sid, status = params.get("MessageSid", ""), params.get("MessageStatus", "")
    message = session.scalar(select(Message).where(Message.provider_message_id == sid))
    if message is None:
        return "ignored: not one of our messages"
    dedupe = f"twilio:{sid}:{status}"
    if not _first_time(session, dedupe, f"status {status}", message, now, params):
        return "duplicate"
    if status == "delivered":
        _advance(message, MessageStatus.DELIVERED)
        message.delivered_at = message.delivered_at or now
        _action_reached(session, message, "delivered", now)
    elif status in ("undelivered", "failed"):
        code = params.get("ErrorCode") or ""
        message.status, message.failed_at = MessageStatus.FAILED, now
        message.error_code, message.error = code or None, f"carrier says {status}"
        if code in Twilio.PERMANENT_CODES:
            reason = SuppressionReason.STOP if code == "21610" else SuppressionReason.INVALID
            suppressions.suppress(
                session=session,
                channel=Channel.SMS,
                address=message.to_address,
                reason=reason,
                detail=f"Twilio error {code}",
                message_id=message.id,
            )
    return f"applied: {status}"


@dataclass(frozen=True)
class Reply:
    """What to text back (None: nothing) and what the message was taken as."""

    text: str | None
    meaning: str


def handle_inbound_sms(*, session: Session, params: dict[str, str], now: datetime) -> Reply:
    """A text a customer sent to our number. STOP words (and plain requests to stop) opt the
    number out with one confirmation; HELP answers who we are; the join keyword starts a
    sign-up (core.messaging.sms_signup); START opts back in."""
    store = get_store_profile(session=session)
    policy = get_policy(session=session)
    sid, number = params.get("MessageSid", ""), params.get("From", "")
    body = " ".join(params.get("Body", "").split())
    word = body.upper()
    customer = session.scalar(
        select(Customer).where(Customer.phone == number, Customer.deleted_at.is_(None))
    )
    inbound = {"from": number, "body": body}
    if not _first_inbound(session, f"twilio-in:{sid}", customer, inbound, now):
        return Reply(None, "duplicate")
    if word in STOP_WORDS or _PLAIN_STOP.search(body):
        suppressions.opt_out(
            session=session,
            channel=Channel.SMS,
            address=number,
            reason=SuppressionReason.STOP,
            source="sms keyword",
            details={"keyword": body[:40]},
            now=now,
        )
        return Reply(
            f"{store.name}: you are unsubscribed and will get no more texts from us. "
            "Reply START to resubscribe.",
            "opt-out",
        )
    if word in HELP_WORDS:
        contact = " or ".join(c for c in (store.phone, store.email) if c) or "the store"
        return Reply(
            f"{store.name} marketing texts: {sms_signup.frequency_words(policy)}. Help: {contact}. "
            "Msg & data rates may apply. Reply STOP to cancel.",
            "help",
        )
    signing_up = sms_signup.handle(
        session=session, number=number, body=body, store=store, policy=policy, now=now
    )
    if signing_up is not None:
        return Reply(signing_up, "sign-up")
    if word in START_WORDS:
        return Reply(_opt_back_in(session, number, store, now), "opt-in")
    return Reply(None, "message")


def _opt_back_in(session: Session, number: str, store: StoreProfile, now: datetime) -> str:
    customers = session.scalars(
        select(Customer).where(Customer.phone == number, Customer.deleted_at.is_(None))
    ).all()
    try:
        for customer in customers:
            consent.set_consent(
                session=session,
                customer=customer,
                channel=Channel.SMS,
                granted=True,
                source="sms keyword",
                details={"keyword": "START"},
                now=now,
            )
    except ValidationError:
        return (
            f"{store.name}: we need your date of birth on file before we can text you. "
            "Ask at the store."
        )
    if not customers:
        return f"{store.name}: sign up at the store to get our texts."
    suppressions.lift(session=session, channel=Channel.SMS, address=number)
    return (
        f"{store.name}: you are resubscribed to our texts. "
        "Msg & data rates may apply. Reply STOP to cancel."
    )


# --- shared -----------------------------------------------------------------------------------


def _action_reached(session: Session, message: Message, outcome: str, now: datetime) -> None:
    """The action a message carries out is done once it is delivered; opens and clicks are
    its outcome."""
    if message.action_id is not None:
        actions.record_outcome(
            session=session, action_id=message.action_id, outcome=outcome, now=now
        )


def _advance(message: Message, status: MessageStatus) -> None:
    """Move forward only: a late 'delivered' never undoes a bounce."""
    if message.status in (MessageStatus.SENT, MessageStatus.SENDING, MessageStatus.QUEUED):
        message.status = status


def _timestamp(value: Any, *, default: datetime) -> datetime:
    try:
        return datetime.fromtimestamp(float(value), UTC)
    except (TypeError, ValueError, OverflowError):
        return default


def _first_time(
    session: Session,
    dedupe_key: str,
    kind: str,
    message: Message,
    occurred: datetime,
    data: dict[str, Any],
) -> bool:
    """Record the event unless its key was seen; whether it was new."""
    return _insert_event(
        session,
        dedupe_key=dedupe_key,
        type=f"{message.channel}.{kind.split()[-1]}",
        customer_id=message.customer_id,
        campaign_id=message.campaign_id,
        message_id=message.id,
        occurred_at=occurred,
        data={k: data[k] for k in list(data)[:20] if isinstance(data[k], str | int | float)},
    )


def _first_inbound(
    session: Session,
    dedupe_key: str,
    customer: Customer | None,
    data: dict[str, Any],
    now: datetime,
) -> bool:
    return _insert_event(
        session,
        dedupe_key=dedupe_key,
        type="sms.inbound",
        customer_id=customer.id if customer else None,
        occurred_at=now,
        data=data,
    )


def _insert_event(session: Session, **values: Any) -> bool:
    inserted = session.execute(
        upsert(session)(Event)
        .values(**{"campaign_id": None, "message_id": None, **values})
        .on_conflict_do_nothing()
        .returning(Event.id)
    ).first()
    return inserted is not None


# --- unsubscribe links ------------------------------------------------------------------------


def unsubscribe_from_link(*, session: Session, token: str, now: datetime) -> str:
    """Opt out the address a signed link was sent to. Returns the address (masked for show).

    Raises:
        ValidationError: the token is forged or names no message of ours.
    """
    message = session.get(Message, links.message_id_from(links.accepted_link_keys(), token))
    if message is None or not message.to_address:
        raise ValidationError("This unsubscribe link is not valid.")
    suppressions.opt_out(
        session=session,
        channel=message.channel,
        address=message.to_address,
        reason=SuppressionReason.UNSUBSCRIBED,
        source="unsubscribe link",
        message_id=message.id,
        now=now,
    )
    return mask(message.to_address)


def mask(address: str) -> str:
    """d***@example.com / +1******0104: enough to recognise, not enough to harvest."""
    if "@" in address:
        name, domain = address.split("@", 1)
        return f"{name[:1]}***@{domain}"
    return address[:2] + "*" * max(0, len(address) - 6) + address[-4:]
