"""Events: the facts analytics are built from (imports finished, messages delivered, opt-outs…)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from core.models import Event


def record(
    *,
    session: Session,
    type: str,
    customer_id: int | None = None,
    campaign_id: int | None = None,
    message_id: int | None = None,
    user_id: int | None = None,
    occurred_at: datetime,
    amount_cents: int | None = None,
    data: dict[str, Any] | None = None,
) -> Event:
    event = Event(
        type=type,
        customer_id=customer_id,
        campaign_id=campaign_id,
        message_id=message_id,
        user_id=user_id,
        amount_cents=amount_cents,
        occurred_at=occurred_at,
        data=data or {},
    )
    session.add(event)
    return event
