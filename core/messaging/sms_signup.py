"""Signing up for texts by keyword, with double opt-in (COMPLIANCE.md, "SMS: consent").

A number texts the store's keyword (JOIN). Alcohol is age-gated content, so a full date of birth
showing 21+ comes first: asked for unless the store already has it. Then the exact disclosure
is sent and consent is recorded only when the number replies Y, with the keyword, the text and
its version as proof. A sign-up left unfinished for a day is forgotten.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.compliance import CANADIAN_AREA_CODES, area_code, consent
from core.compliance.age import is_adult
from core.compliance.policy import Policy
from core.customers.records import create_customer
from core.infra import events
from core.messaging import suppressions
from core.models import Channel, Customer, SmsSignup
from core.permissions import SYSTEM
from core.store_profile import StoreProfile

CONFIRM_WORDS = frozenset({"Y", "YES"})
EXPIRES = timedelta(hours=24)
DISCLOSURE_VERSION = "sms-disclosure-1"
DISCLOSURE = (
    "{store}: reply Y to get marketing texts about offers, {frequency}. Consent is not a "
    "condition of purchase. Msg & data rates may apply. Reply HELP for help, STOP to cancel."
)
_DATE_FORMATS = ("%m/%d/%Y", "%Y-%m-%d", "%m-%d-%Y", "%m.%d.%Y")


def handle(
    *,
    session: Session,
    number: str,
    body: str,
    store: StoreProfile,
    policy: Policy,
    now: datetime,
) -> str | None:
    """The reply to `body` when it is a step of a sign-up (the keyword, a date of birth, the
    Y), else None."""
    word = body.upper()
    signup = session.get(SmsSignup, number)
    if signup is not None and signup.started_at < now - EXPIRES:
        session.delete(signup)
        session.flush()
        signup = None
    if word in policy.sms_join_keywords:
        return _start(session, number, word, store, policy, now)
    if signup is not None and signup.stage == "birth_date":
        return _birth_date(session, signup, body, store, policy)
    if signup is not None and signup.stage == "confirm" and word in CONFIRM_WORDS:
        return _confirm(session, signup, body, store, policy, now)
    return None


def _start(
    session: Session, number: str, keyword: str, store: StoreProfile, policy: Policy, now: datetime
) -> str:
    if area_code(number) is None or area_code(number) in CANADIAN_AREA_CODES:
        return f"{store.name}: our texts go to US mobile numbers only."
    known = _holder(session, number)
    born = known.birth_date if known is not None else None
    if born is not None and not is_adult(born, store.today(now)):
        return f"{store.name}: sorry, our texts are for adults 21 and older."
    signup = session.get(SmsSignup, number) or SmsSignup(number=number)
    signup.keyword, signup.started_at, signup.birth_date = keyword, now, born
    signup.stage = "confirm" if born is not None else "birth_date"
    session.add(signup)
    if born is None:
        return (
            f"{store.name}: to get our texts, reply with your date of birth (MM/DD/YYYY). "
            "They are for adults 21 and older."
        )
    return _disclosure(store, policy)


def _birth_date(
    session: Session, signup: SmsSignup, body: str, store: StoreProfile, policy: Policy
) -> str:
    born = _parse_date(body)
    if born is None:
        return f"{store.name}: please reply with your date of birth like 05/17/1980."
    if not is_adult(born, store.today(signup.started_at)):
        session.delete(signup)
        return f"{store.name}: sorry, our texts are for adults 21 and older."
    signup.birth_date, signup.stage = born, "confirm"
    return _disclosure(store, policy)


def _confirm(
    session: Session,
    signup: SmsSignup,
    body: str,
    store: StoreProfile,
    policy: Policy,
    now: datetime,
) -> str:
    customer = _holder(session, signup.number)
    if customer is None:
        customer = create_customer(
            session=session,
            actor=SYSTEM,
            now=now,
            phone=signup.number,
            birth_date=signup.birth_date,
            source="sms keyword",
        )
    elif customer.birth_date is None:
        customer.birth_date = signup.birth_date  # said by the customer: not an ID check
    suppressions.lift(session=session, channel=Channel.SMS, address=signup.number)
    consent.set_consent(
        session=session,
        customer=customer,
        channel=Channel.SMS,
        granted=True,
        source="sms keyword",
        details={
            "keyword": signup.keyword,
            "disclosure": _disclosure(store, policy),
            "version": DISCLOSURE_VERSION,
            "confirmed_with": body[:20],
            "double_opt_in": True,
        },
        now=now,
    )
    events.record(
        session=session,
        type="sms.signed_up",
        customer_id=customer.id,
        occurred_at=now,
        data={"keyword": signup.keyword},
    )
    session.delete(signup)
    return (
        f"{store.name}: you're in! {frequency_words(policy).capitalize()}. Msg & data rates may "
        "apply. Reply HELP for help, STOP to cancel."
    )


def _holder(session: Session, number: str) -> Customer | None:
    """The oldest live customer with this number."""
    return session.scalar(
        select(Customer)
        .where(Customer.phone == number, Customer.deleted_at.is_(None))
        .order_by(Customer.id)
        .limit(1)
    )


def _disclosure(store: StoreProfile, policy: Policy) -> str:
    return DISCLOSURE.format(store=store.name, frequency=frequency_words(policy))


def frequency_words(policy: Policy) -> str:
    """How often the texts come, as the replies say it."""
    return f"up to {policy.cap_for(Channel.SMS)} msgs a week"


def _parse_date(text: str) -> date | None:
    for layout in _DATE_FORMATS:
        try:
            return datetime.strptime(text.strip(), layout).date()
        except ValueError:
            continue
    return None
