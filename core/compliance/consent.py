"""Consent: the customer's current yes/no per channel, and the append-only record behind it.

Alcohol SMS needs proof of age before consent: no SMS opt-in without a birth date showing 21+
(../shared/COMPLIANCE.md). Every change writes a ConsentRecord with where it came from.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, TextIO

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from core.compliance.age import is_adult
from core.db import UnitOfWork
from core.errors import ValidationError
from core.infra import audit
from core.infra.csv_safe import write_csv
from core.models import Channel, ConsentRecord, Customer, User
from core.permissions import Actor, Permission, authorize
from core.store_profile import get_store_profile


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
    if (
        granted
        and channel == Channel.SMS
        and not is_adult(customer.birth_date, get_store_profile(session=session).today(now))
    ):
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


# --- the log, for an audit --------------------------------------------------------------------

REPORT_COLUMNS = (
    "recorded_at",
    "customer_id",
    "channel",
    "decision",
    "address",
    "source",
    "recorded_by",
    "import_id",
    "details",
)


def search_log(
    *, session: Session, search: str = "", limit: int = 200
) -> tuple[list[ConsentRecord], int]:
    """The newest consent decisions whose address contains `search` (or whose customer is
    `#123`), and how many match."""
    query = _matching(search)
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = session.scalars(
        query.order_by(ConsentRecord.recorded_at.desc(), ConsentRecord.id.desc()).limit(limit)
    ).all()
    return list(rows), total


def export_log(
    *,
    unit_of_work: UnitOfWork,
    actor: Actor,
    out: TextIO,
    search: str = "",
    since: datetime | None = None,
) -> int:
    """The consent report for an audit, as spreadsheet-safe CSV, oldest first: every decision
    with its address, source, who recorded it and the proof kept (disclosure text and version,
    IP, user agent, keyword). Holds personal data, so only roles that may export can, and each
    export is in the audit log. Returns the row count."""
    authorize(actor, Permission.EXPORT_DATA)
    query = _matching(search)
    if since is not None:
        query = query.where(ConsentRecord.recorded_at >= since)
    with unit_of_work(read_only=True) as session:
        users = {user_id: email for user_id, email in session.execute(select(User.id, User.email))}
        records = session.scalars(
            query.order_by(ConsentRecord.recorded_at, ConsentRecord.id).execution_options(
                yield_per=5000
            )
        )
        count = write_csv(
            out,
            REPORT_COLUMNS,
            (
                [
                    r.recorded_at,
                    r.customer_id,
                    r.channel,
                    "opt-in" if r.granted else "opt-out",
                    r.address,
                    r.source,
                    users.get(r.user_id, "") if r.user_id else "",
                    r.import_id,
                    json.dumps(r.details, sort_keys=True) if r.details else "",
                ]
                for r in records
            ),
        )
    with unit_of_work() as session:
        audit.record(
            session=session,
            actor=actor,
            action="consent_log.exported",
            entity_type="consent_log",
            changes={
                "rows": count,
                "search": search,
                "since": since.isoformat() if since else None,
            },
        )
    return count


def _matching(search: str) -> Select[ConsentRecord]:
    query = select(ConsentRecord)
    search = search.strip()
    if search.startswith("#") and search[1:].isdigit():
        return query.where(ConsentRecord.customer_id == int(search[1:]))
    if search:
        query = query.where(
            or_(
                func.lower(ConsentRecord.address).contains(search.lower()),
                ConsentRecord.source.contains(search.lower()),
            )
        )
    return query
