"""Campaign results kept in the database, so a dashboard over many campaigns reads them instead
of attributing a year of orders again.

Each row holds one campaign's results as computed at a stamp, the state of the data: the
orders' version (moved on by every write of orders, in its transaction), the newest message,
send, event and campaign change, the attribution settings, and the hour (a lift still being
measured moves on with the clock). The stamp is read in the transaction that computes, so a
write that commits meanwhile moves it for the next reader: a stale result never carries a
newer stamp. A job refreshes the rows when the stamp has moved (the minute clock looks,
after imports and sends, at most every five minutes); a reader finds the rows of the current
stamp, and computes the others itself.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from core.attribution.lift import Interval, Lift
from core.attribution.results import Results, campaign_results
from core.attribution.revenue import Revenue
from core.attribution.settings import get_attribution_settings
from core.customers.totals import orders_version
from core.infra.setting_rows import claim
from core.messaging.monitor import Figures
from core.models import Campaign, CampaignResult, Event, Message, Segment

REFRESH_KEY = "campaign_results_refresh"
REFRESH_EVERY = timedelta(minutes=5)


def data_stamp(session: Session, now: datetime) -> str:
    """The state of the data campaign figures are computed from, as 64 hex characters; a
    handful of index lookups."""
    newest = session.execute(
        select(
            *(
                select(column).scalar_subquery()
                for column in (
                    func.max(Message.id),
                    func.max(Message.sent_at),
                    func.max(Event.id),
                    func.count(Campaign.id),
                    func.max(Campaign.updated_at),
                    func.count(Segment.id),
                    func.max(Segment.updated_at),
                    func.max(Segment.refreshed_at),
                )
            )
        )
    ).one()
    parts = (
        orders_version(session),
        *newest,
        get_attribution_settings(session=session).model_dump_json(),
        now.replace(minute=0, second=0, microsecond=0),
    )
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def results_to_json(results: Results) -> dict[str, Any]:
    lift = results.lift
    return {
        "revenue": asdict(results.revenue),
        "figures": asdict(results.figures),
        "lift": None
        if lift is None
        else asdict(lift) | {"measured_until": lift.measured_until.isoformat()},
    }


def results_from_json(value: dict[str, Any]) -> Results:
    lift = value["lift"]
    if lift is not None:
        interval = lift["per_customer"]
        lift = Lift(
            **lift
            | {
                "per_customer": Interval(**interval) if interval else None,
                "measured_until": datetime.fromisoformat(lift["measured_until"]),
            }
        )
    return Results(
        revenue=Revenue(**value["revenue"]), lift=lift, figures=Figures(**value["figures"])
    )


def stored_results(
    *, session: Session, campaign_ids: list[int], now: datetime
) -> dict[int, Results]:
    """Each campaign's results: the kept ones of the current stamp, the others computed now."""
    stamp = data_stamp(session, now)
    kept = {
        row.campaign_id: results_from_json(row.value)
        for row in session.scalars(
            select(CampaignResult).where(
                CampaignResult.campaign_id.in_(campaign_ids), CampaignResult.stamp == stamp
            )
        )
    }
    missing = [i for i in campaign_ids if i not in kept]
    return kept | campaign_results(session=session, campaign_ids=missing, now=now)


def claim_refresh(*, session: Session, now: datetime) -> bool:
    """Whether the kept results are behind the data and the last refresh was claimed at least
    `REFRESH_EVERY` ago (while messages go out the stamp moves every minute: the results follow
    every few minutes, not every minute); claims the refresh, once."""
    stamp = data_stamp(session, now)

    def due(held: dict[str, Any]) -> bool:
        claimed = held.get("at")
        recent = claimed is not None and now - datetime.fromisoformat(claimed) < REFRESH_EVERY
        return held.get("stamp") != stamp and not recent

    return claim(session, REFRESH_KEY, {"stamp": stamp, "at": now.isoformat()}, due=due)


def refresh_stored_results(*, session: Session, now: datetime) -> int:
    """Compute and keep the results of every campaign that sent something and whose kept
    results are of an older stamp. Returns how many were refreshed."""
    stamp = data_stamp(session, now)
    sent = select(Message.campaign_id).where(Message.sent_at.is_not(None)).distinct()
    current = select(CampaignResult.campaign_id).where(CampaignResult.stamp == stamp)
    stale = list(
        session.scalars(select(Campaign.id).where(Campaign.id.in_(sent), ~Campaign.id.in_(current)))
    )
    if not stale:
        return 0
    computed = campaign_results(session=session, campaign_ids=stale, now=now)
    session.execute(delete(CampaignResult).where(CampaignResult.campaign_id.in_(stale)))
    session.add_all(
        CampaignResult(
            campaign_id=campaign_id,
            stamp=stamp,
            computed_at=now,
            value=results_to_json(results),
        )
        for campaign_id, results in computed.items()
    )
    session.flush()
    return len(stale)
