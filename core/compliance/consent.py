"""Consent: the customer's current yes/no per channel, and the append-only record behind it.

Alcohol SMS needs proof of age before consent: no SMS opt-in without a birth date showing 21+
(../shared/COMPLIANCE.md). Every change writes a ConsentRecord with where it came from.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.compliance.age import is_adult
from core.errors import ValidationError
from core.models import Channel, ConsentRecord, Customer


def set_consent(
    *,
    session: Session,
    customer: Customer,
    channel: Channel,
    granted: bool,
    source: str,
    user_id: int | None = None,
    details: dict[str, Any] | None = None,
    now: datetime,
) -> ConsentRecord | None:
    """Record a decision and apply it. Returns None when it changes nothing.

    Raises:
        ValidationError: a grant without an address, or an SMS grant without proof of 21+.
    """
    current = customer.email_opt_in if channel == Channel.EMAIL else customer.sms_opt_in
    if current == granted:
        return None
    address = customer.email if channel == Channel.EMAIL else customer.phone
    if granted and not address:
        raise ValidationError(f"There is no {channel} address to consent for.", field=channel)
    if granted and channel == Channel.SMS and not is_adult(customer.birth_date, now.date()):
        raise ValidationError(
            "SMS consent needs a full date of birth showing the customer is 21 or older.",
            field="sms_opt_in",
        )
    if channel == Channel.EMAIL:
        customer.email_opt_in, customer.email_opt_in_at = granted, now if granted else None
        customer.email_consent_source = source
    else:
        customer.sms_opt_in, customer.sms_opt_in_at = granted, now if granted else None
        customer.sms_consent_source = source
    record = ConsentRecord(
        customer_id=customer.id,
        channel=channel,
        granted=granted,
        address=address,
        source=source,
        user_id=user_id,
        recorded_at=now,
        details=details or {},
    )
    session.add(record)
    return record


def history(*, session: Session, customer_id: int) -> list[ConsentRecord]:
    """Newest first."""
    return list(
        session.scalars(
            select(ConsentRecord)
            .where(ConsentRecord.customer_id == customer_id)
            .order_by(ConsentRecord.recorded_at.desc(), ConsentRecord.id.desc())
        )
    )
