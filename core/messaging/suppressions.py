"""The suppression list and opt-outs: addresses that must not get marketing again.

An opt-out (unsubscribe link, STOP, a complaint) withdraws the customer's consent for the channel
with a consent record, and suppresses the address itself, so a re-import of the same address under
another customer still never gets a message.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import secrets
from collections.abc import Iterable
from contextlib import suppress as suppress_errors
from dataclasses import dataclass
from datetime import datetime
from typing import TextIO

from pydantic import BaseModel
from sqlalchemy import ColumnElement, case, exists, func, or_, select, update
from sqlalchemy.orm import Session

from core.compliance import consent
from core.customers.contact_details import normalize_email, normalize_phone
from core.db import rowcount, table_of, upsert
from core.errors import NotFound, ValidationError
from core.infra import audit, bulk, events
from core.infra.csv_safe import write_csv
from core.infra.setting_rows import read_setting, write_setting
from core.models import Channel, ContactStatus, Customer, Suppression, SuppressionReason
from core.permissions import Actor, Permission, authorize


def normalise(channel: Channel | str, address: str) -> str:
    address = address.strip()
    return address.lower() if Channel(channel) == Channel.EMAIL else address


def suppress(
    *,
    session: Session,
    channel: Channel | str,
    address: str,
    reason: SuppressionReason,
    detail: str = "",
    message_id: int | None = None,
) -> None:
    """Add the address to the list (once; the first reason stays)."""
    session.execute(
        upsert(session)(Suppression)
        .values(
            channel=Channel(channel).value,
            address=normalise(channel, address),
            reason=reason.value,
            detail=detail[:500],
            message_id=message_id,
        )
        .on_conflict_do_nothing()
    )
    _sync_holders(session, Channel(channel), address)


def sync_contact_status(*, session: Session, customer_ids: Iterable[int]) -> int:
    """Set each given customer's email and text status from the list: `suppressed` while their
    address is on it, else `active` (after an import, or an edit of the address). An address
    that an erased customer had comes back onto the list in plain (see `suppress_erased`).
    Returns how many customers' status changed: only theirs are written (an import batch names
    50,000 customers, nearly all as they were, and a rewrite of a wide row costs its indexes)."""
    if session.scalar(select(Suppression.id).limit(1)) is None:
        return 0  # nothing is suppressed: everyone is active already (the common case)
    customer_ids = list(customer_ids)
    keys = bulk.key_set(session, customer_ids, Customer.id.type)
    _relist_erased_addresses(session, customer_ids)
    email, sms = _status(Channel.EMAIL), _status(Channel.SMS)
    changed = session.execute(
        update(Customer)
        .where(Customer.id.in_(keys))
        .where(or_(Customer.email_status != email, Customer.sms_status != sms))
        .values(email_status=email, sms_status=sms)
        .execution_options(synchronize_session="fetch")
    )
    return rowcount(changed)


def _holds(channel: Channel, address: str) -> ColumnElement[bool]:
    wanted = normalise(channel, address)
    if channel == Channel.EMAIL:
        return func.lower(Customer.email) == wanted
    return Customer.phone == wanted


def _status(channel: Channel) -> ColumnElement[str]:
    address = func.lower(Customer.email) if channel == Channel.EMAIL else Customer.phone
    listed = exists().where(Suppression.channel == channel.value, Suppression.address == address)
    return case((listed, ContactStatus.SUPPRESSED.value), else_=ContactStatus.ACTIVE.value)


def _sync_holders(session: Session, channel: Channel, address: str) -> None:
    column = "email_status" if channel == Channel.EMAIL else "sms_status"
    session.execute(
        update(Customer)
        .where(_holds(channel, address))
        .values({column: _status(channel)})
        .execution_options(synchronize_session="fetch")
    )


# --- erased customers' addresses ------------------------------------------------------------

HASHED = "hmac:"
"""Prefix of a suppressed address kept only as a keyed hash (an erased customer's)."""
_ERASURE_KEY = "privacy_hash_key"


class _ErasureKey(BaseModel):
    """The store's own key for the hashes: without it a hash cannot be checked against a guess
    (a copied list of hashes alone does not give the numbers back)."""

    secret: str = ""


def suppress_erased(*, session: Session, channel: Channel | str, address: str) -> None:
    """Keep an erased customer's address on the list as a keyed hash only: it never gets
    marketing again, and no one can read it off the list. Its plain entry, if any, goes."""
    channel = Channel(channel)
    plain = normalise(channel, address)
    session.execute(
        upsert(session)(Suppression)
        .values(
            channel=channel.value,
            address=_hashed(_erasure_key(session), channel, plain),
            reason=SuppressionReason.ERASED.value,
            detail="erased at the customer's request",
        )
        .on_conflict_do_nothing()
    )
    entry = session.scalar(
        select(Suppression).where(
            Suppression.channel == channel.value, Suppression.address == plain
        )
    )
    if entry is not None:
        session.delete(entry)


def _relist_erased_addresses(session: Session, customer_ids: list[int]) -> None:
    """Put back in plain the addresses of `customer_ids` that match an erased customer's hash
    (the person was imported or typed in again)."""
    erased = set(
        session.scalars(select(Suppression.address).where(Suppression.address.startswith(HASHED)))
    )
    if not erased:
        return
    key = _erasure_key(session)
    c = table_of(Customer).c
    holders = bulk.lookup(session, c.id, customer_ids, [c.email, c.phone])
    for channel, column in ((Channel.EMAIL, "email"), (Channel.SMS, "phone")):
        for address in set(holders[column].dropna()):
            if _hashed(key, channel, normalise(channel, address)) in erased:
                suppress(
                    session=session,
                    channel=channel,
                    address=address,
                    reason=SuppressionReason.ERASED,
                    detail="an erased customer's address, imported or entered again",
                )


def _hashed(key: bytes, channel: Channel, normalised_address: str) -> str:
    digest = hmac.new(key, f"{channel.value}:{normalised_address}".encode(), hashlib.sha256)
    return HASHED + digest.hexdigest()


def _erasure_key(session: Session) -> bytes:
    stored = read_setting(session, _ERASURE_KEY, _ErasureKey)
    if not stored.secret:
        stored = _ErasureKey(secret=secrets.token_hex(32))
        write_setting(session, _ERASURE_KEY, stored)
        session.flush()
    return bytes.fromhex(stored.secret)


def lift(*, session: Session, channel: Channel | str, address: str) -> None:
    """Take the address off the list (a START reply, a new written consent), and its erased
    hash with it: the person asked for messages again."""
    channel = Channel(channel)
    plain = normalise(channel, address)
    listed = [plain]
    if session.scalar(select(Suppression.id).where(Suppression.address.startswith(HASHED))):
        listed.append(_hashed(_erasure_key(session), channel, plain))
    rows = session.scalars(
        select(Suppression).where(
            Suppression.channel == channel.value, Suppression.address.in_(listed)
        )
    ).all()
    for row in rows:
        session.delete(row)
    if rows:
        session.flush()
        _sync_holders(session, channel, address)


def reasons_for(
    *, session: Session, channel: Channel | str, addresses: Iterable[str]
) -> dict[str, str]:
    """Suppressed addresses among `addresses` (normalised) with their reason."""
    wanted = {normalise(channel, a) for a in addresses if a}
    if not wanted:
        return {}
    return dict(
        session.execute(
            select(Suppression.address, Suppression.reason).where(
                Suppression.channel == Channel(channel).value, Suppression.address.in_(wanted)
            )
        ).all()
    )


def opt_out(
    *,
    session: Session,
    channel: Channel | str,
    address: str,
    reason: SuppressionReason,
    source: str,
    now: datetime,
    details: dict[str, object] | None = None,
    message_id: int | None = None,
) -> list[int]:
    """Withdraw consent of every customer with this address on `channel` and suppress it.
    Returns the ids of the customers whose consent changed."""
    channel = Channel(channel)
    suppress(
        session=session,
        channel=channel,
        address=address,
        reason=reason,
        detail=source,
        message_id=message_id,
    )
    changed = []
    for customer in session.scalars(select(Customer).where(_holds(channel, address))):
        if consent.set_consent(
            session=session,
            customer=customer,
            channel=channel,
            granted=False,
            source=source,
            details=details,
            now=now,
        ):
            changed.append(customer.id)
            events.record(
                session=session,
                type=f"{channel.value}.opted_out",
                customer_id=customer.id,
                message_id=message_id,
                occurred_at=now,
                data={"reason": reason.value, "source": source},
            )
    return changed


def list_suppressions(
    *, session: Session, search: str = "", limit: int = 200
) -> tuple[list[Suppression], int]:
    """The newest suppressions (matching `search` in the address, or, for an erased customer's
    hashed entry, the whole address or number typed), and how many there are."""
    query = select(Suppression)
    if search := search.strip():
        query = query.where(
            or_(
                Suppression.address.contains(search.lower()),
                Suppression.address.in_(_hashes_of(session, search)),
            )
        )
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = session.scalars(query.order_by(Suppression.created_at.desc()).limit(limit)).all()
    return list(rows), total


def _hashes_of(session: Session, typed: str) -> list[str]:
    """The hashes `typed` would be listed under, were it an erased customer's address."""
    if session.scalar(select(Suppression.id).where(Suppression.address.startswith(HASHED))) is None:
        return []
    key = _erasure_key(session)
    found = [_hashed(key, Channel.EMAIL, normalise(Channel.EMAIL, typed))]
    with suppress_errors(ValidationError):
        found.append(_hashed(key, Channel.SMS, normalize_phone(typed)))
    return found


def add_by_hand(
    *, session: Session, actor: Actor, channel: Channel | str, address: str, now: datetime
) -> None:
    """Suppress an address someone asked not to be contacted at (by phone, at the till)."""
    authorize(actor, Permission.RUN_CAMPAIGNS)
    channel = Channel(channel)
    address = normalize_email(address) if channel == Channel.EMAIL else normalize_phone(address)
    opt_out(
        session=session,
        channel=channel,
        address=address,
        reason=SuppressionReason.MANUAL,
        source=f"added by {actor.email}",
        now=now,
    )
    audit.record(
        session=session,
        actor=actor,
        action="suppression.add",
        entity_type="suppression",
        changes={"channel": channel.value},
    )


@dataclass(frozen=True)
class ListImport:
    added: int
    already: int
    problems: list[str]
    """Lines that were not an address, by line number, with why."""

    def summary(self) -> str:
        said = f"{self.added:,} suppressed, {self.already:,} already were"
        if self.problems:
            shown = "; ".join(self.problems[:5])
            more = f" (and {len(self.problems) - 5:,} more)" if len(self.problems) > 5 else ""
            said += f"; {len(self.problems):,} lines skipped: {shown}{more}"
        return said + "."


MAX_IMPORT_LINES = 50_000


def import_list(*, session: Session, actor: Actor, text: str, now: datetime) -> ListImport:
    """Suppress every address in `text`: a CSV or plain list whose first column holds an email
    address or a phone number on each line (a header line is skipped). Lines that are neither
    are reported by number; the good ones are kept. Audited as one change."""
    authorize(actor, Permission.RUN_CAMPAIGNS)
    lines = list(csv.reader(io.StringIO(text)))
    if len(lines) > MAX_IMPORT_LINES:
        raise ValidationError(
            f"The file has {len(lines):,} lines; import at most {MAX_IMPORT_LINES:,} at a time."
        )
    added = already = 0
    problems: list[str] = []
    listed = {
        (str(channel), address)
        for channel, address in session.execute(select(Suppression.channel, Suppression.address))
    }
    for number, cells in enumerate(lines, start=1):
        raw = cells[0].strip() if cells else ""
        if not raw or (number == 1 and _is_header(raw)):
            continue
        try:
            channel, address = _address(raw)
        except ValidationError as exc:
            problems.append(f"line {number}: {exc}")
            continue
        if (channel.value, address) in listed:
            already += 1
            continue
        opt_out(
            session=session,
            channel=channel,
            address=address,
            reason=SuppressionReason.MANUAL,
            source=f"list imported by {actor.email}",
            now=now,
        )
        listed.add((channel.value, address))
        added += 1
    audit.record(
        session=session,
        actor=actor,
        action="suppression.import",
        entity_type="suppression",
        changes={"added": added, "already": already, "problems": len(problems)},
    )
    return ListImport(added, already, problems)


def export_list(*, session: Session, actor: Actor, out: TextIO) -> int:
    """The whole list as spreadsheet-safe CSV (an erased customer's entry shows as such, never
    its hash); audited. Returns the row count."""
    authorize(actor, Permission.EXPORT_DATA)
    rows = session.execute(
        select(
            Suppression.channel,
            Suppression.address,
            Suppression.reason,
            Suppression.detail,
            Suppression.created_at,
        ).order_by(Suppression.created_at, Suppression.id)
    )
    count = write_csv(
        out,
        ("channel", "address", "reason", "detail", "since"),
        (
            [
                channel,
                shown_address(address),
                reason,
                detail,
                since,
            ]
            for channel, address, reason, detail, since in rows
        ),
    )
    audit.record(
        session=session,
        actor=actor,
        action="suppression.exported",
        entity_type="suppression",
        changes={"rows": count},
    )
    return count


def shown_address(address: str) -> str:
    """An address as a person may read it: an erased customer's is never shown (its hash says
    nothing anyway)."""
    return "an erased customer's (kept as a hash)" if address.startswith(HASHED) else address


def _is_header(cell: str) -> bool:
    return "@" not in cell and not any(ch.isdigit() for ch in cell)


def _address(raw: str) -> tuple[Channel, str]:
    """The channel and normalised address `raw` is, or ValidationError saying why neither."""
    if "@" in raw:
        return Channel.EMAIL, normalize_email(raw)
    try:
        return Channel.SMS, normalize_phone(raw)
    except ValidationError:
        raise ValidationError(
            f"'{raw[:60]}' is neither an email address nor a phone number"
        ) from None


def remove(*, session: Session, actor: Actor, suppression_id: int) -> None:
    """Lift a suppression (an address typed by mistake). Admins only: it re-opens a channel the
    person closed, and consent still has to be given again before anything is sent."""
    authorize(actor, Permission.MANAGE_SETTINGS)
    row = session.get(Suppression, suppression_id)
    if row is None:
        raise NotFound(f"Suppression {suppression_id} not found.")
    session.delete(row)
    session.flush()
    _sync_holders(session, Channel(row.channel), row.address)
    audit.record(
        session=session,
        actor=actor,
        action="suppression.remove",
        entity_type="suppression",
        entity_id=suppression_id,
        changes={"channel": row.channel, "reason": row.reason},
    )
