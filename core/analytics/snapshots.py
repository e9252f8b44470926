"""Dashboard figures kept in the database for the state of the data (`attribution.data_stamp`):
the preset periods' key figures, the cohorts and churn by month. The job that keeps campaign
results after imports and sends keeps these too, so the first manager to open Analytics reads
them instead of a year of orders; a reader finds the snapshot of the current stamp, or computes
the figure itself (a custom range, or before the job has run).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from datetime import date, datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy.orm import Session

from core.analytics.cache import cached
from core.analytics.kpis import CampaignStart, Kpis
from core.analytics.periods import Period
from core.models import AnalyticsSnapshot

T = TypeVar("T")


def kept(
    session: Session,
    key: str,
    stamp: str,
    compute: Callable[[], T],
    decode: Callable[[dict[str, Any]], T],
) -> T:
    """The snapshot under `key` when it is of `stamp`, else `compute()`."""
    row = session.get(AnalyticsSnapshot, key)
    if row is not None and row.stamp == stamp:
        return decode(row.value)
    return compute()


def recalled(
    session: Session,
    key: str,
    stamp: str,
    compute: Callable[[], T],
    decode: Callable[[dict[str, Any]], T],
) -> T:
    """The figure under `key` at `stamp`: kept in this process, else kept in the database,
    else computed (and then kept in this process)."""
    return cached(key, stamp, lambda: kept(session, key, stamp, compute, decode))


def keep(session: Session, key: str, stamp: str, value: dict[str, Any], now: datetime) -> None:
    row = session.get(AnalyticsSnapshot, key)
    if row is None:
        session.add(AnalyticsSnapshot(key=key, stamp=stamp, computed_at=now, value=value))
    else:
        row.stamp, row.computed_at, row.value = stamp, now, value


def kpis_key(period: Period, zone: ZoneInfo) -> str:
    return f"kpis:{period.first}:{period.last}:{zone.key}"


def categories_key(period: Period, zone: ZoneInfo) -> str:
    return f"categories:{period.first}:{period.last}:{zone.key}"


def cohorts_key(today: date, zone: ZoneInfo, months: int) -> str:
    return f"cohorts:{today}:{zone.key}:{months}"


def churn_key(today: date, zone: ZoneInfo, months: int) -> str:
    return f"churn:{today}:{zone.key}:{months}"


# --- to JSON and back ------------------------------------------------------------------------


def kpis_to_json(found: Kpis) -> dict[str, Any]:
    value = asdict(found)
    value["period"] = {
        "first": found.period.first.isoformat(),
        "last": found.period.last.isoformat(),
    }
    value["campaigns"] = [
        {"id": c.id, "name": c.name, "first_sent_at": c.first_sent_at.isoformat()}
        for c in found.campaigns
    ]
    return value


def kpis_from_json(value: dict[str, Any]) -> Kpis:
    period = value["period"]
    return Kpis(
        **value
        | {
            "period": Period(
                date.fromisoformat(period["first"]), date.fromisoformat(period["last"])
            ),
            "campaigns": tuple(
                CampaignStart(
                    id=c["id"],
                    name=c["name"],
                    first_sent_at=datetime.fromisoformat(c["first_sent_at"]),
                )
                for c in value["campaigns"]
            ),
        }
    )


def frame_to_json(frame: pd.DataFrame) -> dict[str, Any]:
    """Columns, index and cells; dates as ISO text, missing values as null."""

    def cell(value: Any) -> Any:
        if isinstance(value, date):
            return value.isoformat()
        return None if pd.isna(value) else value.item() if hasattr(value, "item") else value

    return {
        "columns": [cell(c) for c in frame.columns],
        "index": [cell(i) for i in frame.index],
        "data": [[cell(v) for v in row] for row in frame.itertuples(index=False)],
    }


def frame_from_json(
    value: dict[str, Any], *, date_columns: tuple[str, ...] = (), date_index: bool = False
) -> pd.DataFrame:
    frame = pd.DataFrame(value["data"], columns=value["columns"], index=value["index"])
    for column in date_columns:
        frame[column] = [date.fromisoformat(d) for d in frame[column]]
    if date_index:
        frame.index = [date.fromisoformat(d) for d in frame.index]
    return frame


def churn_from_json(value: dict[str, Any]) -> pd.DataFrame:
    return frame_from_json(value, date_columns=("month",))
