"""Customer records: one customer read, created, edited, consented, deleted and restored,
validated field by field and audited."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from core.compliance import consent
from core.compliance.consent import Channel
from core.customers import zip_codes
from core.customers.contact_details import (
    normalize_email,
    normalize_phone,
    normalize_state,
    normalize_zip,
    timezone_for,
)
from core.errors import Conflict, NotFound, ValidationError
from core.infra import audit
from core.messaging import suppressions
from core.models import AuditEntry, ConsentRecord, Customer
from core.permissions import Actor, Permission, authorize
from core.store_profile import get_store_profile


def get_customer(*, session: Session, customer_id: int, include_deleted: bool = False) -> Customer:
    customer = session.get(Customer, customer_id)
    if customer is None or (customer.deleted_at is not None and not include_deleted):
        raise NotFound(f"There is no customer #{customer_id}.")
    return customer


# --- writing ---------------------------------------------------------------------------------

EDITABLE = (
    "external_id",
    "first_name",
    "last_name",
    "email",
    "phone",
    "birth_date",
    "age_verified",
    "address",
    "city",
    "state",
    "zip",
    "timezone",
)


def validate_fields(fields: dict[str, Any], *, today: date) -> dict[str, Any]:
    """Check and normalise editable fields. Raises ValidationError naming the first bad field."""
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise ValidationError(f"These fields cannot be edited: {', '.join(sorted(unknown))}")
    clean: dict[str, Any] = {}
    for name, value in fields.items():
        if isinstance(value, str):
            value = value.strip()
        if name == "email":
            clean[name] = normalize_email(value) if value else None
        elif name == "phone":
            clean[name] = normalize_phone(value) if value else None
        elif name == "state":
            clean[name] = normalize_state(value or "")
        elif name == "zip":
            clean[name] = normalize_zip(value or "")
        elif name == "birth_date":
            clean[name] = _birth_date(value, today)
        elif name == "external_id":
            clean[name] = value or None
        elif name in ("first_name", "last_name", "address", "city"):
            limit = 200 if name == "address" else 100
            if len(value or "") > limit:
                raise ValidationError(f"{name.replace('_', ' ')} is too long", field=name)
            clean[name] = value or ""
        else:
            clean[name] = value
    return clean


def _birth_date(value: Any, today: date) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError as exc:
            raise ValidationError(
                f"'{value}' is not a date (use YYYY-MM-DD)", field="birth_date"
            ) from exc
    if value > today:
        raise ValidationError("The birth date is in the future.", field="birth_date")
    if value.year < 1900:
        raise ValidationError("The birth date is before 1900.", field="birth_date")
    return value


def fill_from_zip(customer: Customer) -> dict[str, list[str]]:
    """Fill a blank city or state from the customer's ZIP code; the changes made."""
    place = zip_codes.place_of(customer.zip)
    filled: dict[str, list[str]] = {}
    for name in ("city", "state"):
        if place and not getattr(customer, name):
            filled[name] = ["", getattr(place, name)]
            setattr(customer, name, getattr(place, name))
    return filled


def create_customer(
    *,
    session: Session,
    actor: Actor,
    now: datetime,
    email_opt_in: bool = False,
    sms_opt_in: bool = False,
    source: str = "manual",
    **fields: Any,
) -> Customer:
    """A new customer from checked fields (`source`: how they came, e.g. an SMS sign-up)."""
    authorize(actor, Permission.EDIT_DATA)
    values = validate_fields(fields, today=get_store_profile(session=session).today(now))
    if not (values.get("email") or values.get("phone") or values.get("external_id")):
        raise ValidationError("A customer needs an email, a phone number or a customer ID.")
    _check_external_id_free(session, values.get("external_id"), None)
    customer = Customer(source=source, **values)
    fill_from_zip(customer)
    if not customer.timezone:
        customer.timezone = timezone_for(
            zip_code=customer.zip, state=customer.state, phone=customer.phone
        )
    session.add(customer)
    session.flush()
    suppressions.sync_contact_status(session=session, customer_ids=[customer.id])
    for channel, wanted in ((Channel.EMAIL, email_opt_in), (Channel.SMS, sms_opt_in)):
        if wanted:
            consent.set_consent(
                session=session,
                customer=customer,
                channel=channel,
                granted=True,
                source="manual",
                user_id=actor.user_id,
                now=now,
            )
    audit.record(
        session=session,
        actor=actor,
        action="customer.create",
        entity_type="customer",
        entity_id=customer.id,
        changes={k: str(v) for k, v in values.items() if v not in (None, "")},
    )
    return customer


def update_customer(
    *,
    session: Session,
    actor: Actor,
    customer_id: int,
    now: datetime,
    expected_version: int | None = None,
    **fields: Any,
) -> Customer:
    """Apply edits, recording old and new values in the audit log. The time zone follows a new
    address unless it is given too.

    Args:
        expected_version: the `Customer.version` the edits were made from (a form shows one);
            when the customer has changed since, nothing is applied.

    Raises:
        Conflict: the customer changed since `expected_version`; says who changed it and when.
    """
    authorize(actor, Permission.EDIT_DATA)
    customer = get_customer(session=session, customer_id=customer_id)
    if expected_version is not None and customer.version != expected_version:
        raise _changed_meanwhile(session, customer)
    values = validate_fields(fields, today=get_store_profile(session=session).today(now))
    if "external_id" in values:
        _check_external_id_free(session, values["external_id"], customer.id)
    changes = {
        name: [_plain(getattr(customer, name)), _plain(value)]
        for name, value in values.items()
        if getattr(customer, name) != value
    }
    if not changes:
        return customer
    for name, value in values.items():
        setattr(customer, name, value)
    if "zip" in changes:
        changes |= fill_from_zip(customer)
    address_moved = {"zip", "state", "phone"} & set(changes)
    if address_moved and "timezone" not in values:
        zone = timezone_for(zip_code=customer.zip, state=customer.state, phone=customer.phone)
        if zone and zone != customer.timezone:
            changes["timezone"] = [customer.timezone, zone]
            customer.timezone = zone
    for channel, address in ((Channel.EMAIL, "email"), (Channel.SMS, "phone")):
        # Consent belongs to an address: a new address starts without it.
        if address in changes and getattr(customer, f"{channel}_opt_in"):
            consent.set_consent(
                session=session,
                customer=customer,
                channel=channel,
                granted=False,
                source=f"{address} changed",
                user_id=actor.user_id,
                now=now,
            )
    if {"email", "phone"} & set(changes):
        session.flush()
        suppressions.sync_contact_status(session=session, customer_ids=[customer.id])
    audit.record(
        session=session,
        actor=actor,
        action="customer.update",
        entity_type="customer",
        entity_id=customer.id,
        changes=changes,
    )
    try:
        session.flush()  # the UPDATE checks the version it read: a save in between stops it
    except StaleDataError as exc:
        raise Conflict(
            "This customer was changed while you were saving. Reload and try again."
        ) from exc
    return customer


def _changed_meanwhile(session: Session, customer: Customer) -> Conflict:
    last = session.scalar(
        select(AuditEntry)
        .where(AuditEntry.entity_type == "customer", AuditEntry.entity_id == str(customer.id))
        .order_by(AuditEntry.id.desc())
        .limit(1)
    )
    by = f" by {last.actor} at {last.at:%Y-%m-%d %H:%M} UTC" if last else ""
    return Conflict(
        f"This customer was changed{by} after you opened it. Reload to see the changes, then "
        "make yours again."
    )


def _check_external_id_free(session: Session, external_id: str | None, own_id: int | None) -> None:
    if not external_id:
        return
    holder = session.scalar(select(Customer.id).where(Customer.external_id == external_id))
    if holder is not None and holder != own_id:
        raise Conflict(f"Customer ID {external_id} already belongs to customer #{holder}.")


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


def change_consent(
    *,
    session: Session,
    actor: Actor,
    customer_id: int,
    channel: Channel,
    granted: bool,
    now: datetime,
) -> ConsentRecord | None:
    """A marketer records a consent decision the customer gave in person or in writing."""
    authorize(actor, Permission.EDIT_DATA)
    customer = get_customer(session=session, customer_id=customer_id)
    return consent.set_consent(
        session=session,
        customer=customer,
        channel=channel,
        granted=granted,
        source="manual",
        user_id=actor.user_id,
        details={"recorded_by": actor.email},
        now=now,
    )


def soft_delete(*, session: Session, actor: Actor, customer_ids: list[int], now: datetime) -> int:
    """Hide customers from lists and sends; the rows (and their orders) stay."""
    authorize(actor, Permission.EDIT_DATA)
    customers = session.scalars(
        select(Customer).where(Customer.id.in_(customer_ids), Customer.deleted_at.is_(None))
    ).all()
    for customer in customers:
        customer.deleted_at = now
        audit.record(
            session=session,
            actor=actor,
            action="customer.delete",
            entity_type="customer",
            entity_id=customer.id,
        )
    return len(customers)


def restore(*, session: Session, actor: Actor, customer_id: int) -> Customer:
    authorize(actor, Permission.EDIT_DATA)
    customer = get_customer(session=session, customer_id=customer_id, include_deleted=True)
    if customer.erased_at is not None:
        raise Conflict(f"Customer #{customer_id} was erased at their request: nothing to restore.")
    if customer.deleted_at is None:
        return customer
    customer.deleted_at = None
    audit.record(
        session=session,
        actor=actor,
        action="customer.restore",
        entity_type="customer",
        entity_id=customer.id,
    )
    return customer
