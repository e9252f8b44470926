"""Recurring work the store needs without anyone asking: the nightly refresh of scores and
segments. Whichever process ticks first claims a night; the claim is a row lock, so two app or
worker processes never both run it."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from core import scoring, segments
from core.db import UnitOfWork
from core.infra.job_rows import Progress
from core.infra.setting_rows import claim
from core.permissions import SYSTEM, Actor

NIGHTLY_KEY = "nightly_run"
NIGHTLY_AT = time(3, 0)
"""Store-local time of the nightly refresh: after closing, before the morning's sends."""


def claim_nightly_run(*, session: Session, now: datetime, zone: ZoneInfo) -> date | None:
    """The store-local day to refresh for, if its nightly run is due and unclaimed; claims it."""
    local = now.astimezone(zone)
    if local.time() < NIGHTLY_AT:
        return None
    day = local.date().isoformat()
    claimed = claim(session, NIGHTLY_KEY, {"day": day}, due=lambda held: held.get("day") != day)
    return local.date() if claimed else None


def rescore(
    *,
    unit_of_work: UnitOfWork,
    actor: Actor,
    now: datetime,
    as_of: date | None = None,
    horizon_days: int = scoring.HORIZON_DAYS,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Score every customer, then refresh the rule-based segments, which read the scores."""
    summary = scoring.score_customers(
        unit_of_work=unit_of_work,
        actor=actor,
        now=now,
        as_of=as_of,
        horizon_days=horizon_days,
        progress=progress,
    )
    refreshed = refresh_segments(unit_of_work=unit_of_work, now=now)
    return summary.as_dict() | {"segments": refreshed}


def refresh_segments(*, unit_of_work: UnitOfWork, now: datetime) -> dict[str, int]:
    """Members per rule-based segment, after refreshing them all in one transaction."""
    with unit_of_work() as session:
        return segments.refresh_all(session=session, actor=SYSTEM, now=now)
