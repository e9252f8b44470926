"""Every campaign in one table: what it sent and how that fared, what it earned, what it cost.
The same rows feed `python -m core campaigns --json`, the Analytics page and its CSV."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, TextIO

from sqlalchemy.orm import Session

from core.attribution.results import Results
from core.attribution.stored import stored_results
from core.campaigns import list_campaigns
from core.infra.csv_safe import write_csv
from core.models import Audience, CampaignStatus, CampaignType


@dataclass(frozen=True)
class ReportRow:
    id: int
    name: str
    type: CampaignType
    status: CampaignStatus
    audience: Audience
    starts_at: datetime | None
    ends_at: datetime | None
    results: Results

    def as_dict(self) -> dict[str, Any]:
        """Flat, as the command line prints it and the CSV writes it."""
        return {
            "id": self.id,
            "name": self.name,
            "type": self.type,
            "status": self.status,
            "audience": self.audience,
            "starts_at": self.starts_at,
            "ends_at": self.ends_at,
            **self.results.figures.as_dict(),
            **self.results.as_dict(),
        }


def campaign_report(*, session: Session, now: datetime) -> list[ReportRow]:
    """One row per campaign, newest first: its details, figures and results."""
    listed = list_campaigns(session=session)
    results = stored_results(session=session, campaign_ids=[c.id for c in listed], now=now)
    return [
        ReportRow(
            id=c.id,
            name=c.name,
            type=c.type,
            status=c.status,
            audience=c.audience,
            starts_at=c.starts_at,
            ends_at=c.ends_at,
            results=results[c.id],
        )
        for c in listed
    ]


def write_report_csv(out: TextIO, rows: list[ReportRow]) -> int:
    """The rows as CSV, safe to open in Excel. Returns how many were written."""
    flat = [row.as_dict() for row in rows]
    columns = list(flat[0]) if flat else ["id"]
    return write_csv(out, columns, ([row[c] for c in columns] for row in flat))
