"""The messages as CSV: who got which campaign's message, when, what became of it, and the offer
code it carried (what a till or a spreadsheet matches sales against)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TextIO

from sqlalchemy import select

from core.db import UnitOfWork
from core.infra import audit
from core.infra.csv_safe import write_csv
from core.messaging.outbox import TEST_PREFIX
from core.models import Message
from core.permissions import Actor, Permission, authorize

BATCH = 5000
MESSAGE_COLUMNS = {
    "message_id": Message.id,
    "campaign_id": Message.campaign_id,
    "step_id": Message.step_id,
    "customer_id": Message.customer_id,
    "channel": Message.channel,
    "status": Message.status,
    "send_after": Message.send_after,
    "sent_at": Message.sent_at,
    "delivered_at": Message.delivered_at,
    "opened_at": Message.opened_at,
    "clicked_at": Message.clicked_at,
    "offer_code": Message.offer_code,
    "cost_cents": Message.cost_cents,
}


def export_messages(
    *, unit_of_work: UnitOfWork, actor: Actor, out: TextIO, campaign_id: int | None = None
) -> int:
    """Write every campaign message (or one campaign's) as CSV in id order, streamed in
    batches, and record the export in the audit log. Tests of templates are left out.
    Returns the row count.

    Raises:
        PermissionDenied: the actor's role may not export.
    """
    authorize(actor, Permission.EXPORT_DATA)
    query = select(*MESSAGE_COLUMNS.values()).where(~Message.key.startswith(TEST_PREFIX))
    if campaign_id is not None:
        query = query.where(Message.campaign_id == campaign_id)
    with unit_of_work(read_only=True) as session:

        def rows() -> Iterable[tuple[Any, ...]]:
            last = 0
            while batch := session.execute(
                query.where(Message.id > last).order_by(Message.id).limit(BATCH)
            ).all():
                yield from (tuple(row) for row in batch)
                last = batch[-1].id

        count = write_csv(out, list(MESSAGE_COLUMNS), rows())
    with unit_of_work() as session:
        audit.record(
            session=session,
            actor=actor,
            action="messages.exported",
            entity_type="message",
            changes={"rows": count, "campaign_id": campaign_id},
        )
    return count
