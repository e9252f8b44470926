"""The suppression list and opt-outs: addresses that must not get marketing again.

An opt-out (unsubscribe link, STOP, a complaint) withdraws the customer's consent for the channel
with a consent record, and suppresses the address itself, so a re-import of the same address under
another customer still never gets a message.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import consent, events
from core.db import upsert, utc_now
from core.models import Channel, Customer, Suppression, SuppressionReason


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
            created_at=utc_now(),
        )
        .on_conflict_do_nothing()
    )


def lift(*, session: Session, channel: Channel | str, address: str) -> None:
    """Take the address off the list (a START reply, a new written consent)."""
    row = session.scalar(
        select(Suppression).where(
            Suppression.channel == Channel(channel).value,
            Suppression.address == normalise(channel, address),
        )
    )
    if row is not None:
        session.delete(row)


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
    details: dict[str, object] | None = None,
    message_id: int | None = None,
) -> list[int]:
    """Withdraw consent of every customer with this address on `channel` and suppress it.
    Returns the ids of the customers whose consent changed."""
    channel = Channel(channel)
    suppress(session=session, channel=channel, address=address, reason=reason,
             detail=source, message_id=message_id)  # fmt: skip
    column = Customer.email if channel == Channel.EMAIL else Customer.phone
    wanted = normalise(channel, address)
    matches = func.lower(column) == wanted if channel == Channel.EMAIL else column == wanted
    changed = []
    for customer in session.scalars(select(Customer).where(matches)):
        if consent.set_consent(session=session, customer=customer, channel=channel,
                               granted=False, source=source, details=details):  # fmt: skip
            changed.append(customer.id)
            events.record(
                session=session, type=f"{channel.value}.opted_out", customer_id=customer.id,
                message_id=message_id, data={"reason": reason.value, "source": source},
            )  # fmt: skip
    return changed
