"""Every campaign in one table: what it sent and how that fared, what it earned, what it cost.
The same rows feed `python -m core campaigns --json`, the Analytics page and its CSV."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TextIO

from sqlalchemy.orm import Session

from core.attribution.results import campaign_results
from core.campaigns import list_campaigns
from core.infra.csv_safe import write_csv
from core.messaging import monitor


def campaign_report(*, session: Session, now: datetime) -> list[dict[str, Any]]:
    """One row per campaign, newest first: its details, figures and results."""
    listed = list_campaigns(session=session)
    ids = [c.id for c in listed]
    figures = monitor.campaign_figures(session=session, campaign_ids=ids)
    results = campaign_results(session=session, campaign_ids=ids, now=now)
    return [
        {
            "id": c.id,
            "name": c.name,
            "type": c.type,
            "status": c.status,
            "audience": c.audience,
            "starts_at": c.starts_at,
            "ends_at": c.ends_at,
            **figures[c.id].as_dict(),
            **results[c.id].as_dict(),
        }
        for c in listed
    ]


def write_report_csv(out: TextIO, rows: list[dict[str, Any]]) -> int:
    """The rows as CSV, safe to open in Excel. Returns how many were written."""
    if not rows:
        return write_csv(out, ["id"], [])
    columns = list(rows[0])
    return write_csv(out, columns, ([row[c] for c in columns] for row in rows))
