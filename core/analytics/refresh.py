"""Keeping the dashboard ready: after imports and sends the results job (started by the minute
clock when the data's stamp moves) keeps every campaign's results, then the preset periods' key
figures (and the periods before them) and categories, and the cohorts and churn by month of
the store's today, so managers read them instead of waiting for them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.orm import Session

from core.analytics.kpis import kpis
from core.analytics.periods import PRESETS, Period
from core.analytics.retention import (
    MONTHS,
    cohorts_to_json,
    compute_churn_by_month,
    compute_cohorts,
)
from core.analytics.snapshots import (
    categories_key,
    churn_key,
    cohorts_key,
    frame_to_json,
    keep,
    kpis_key,
    kpis_to_json,
)
from core.analytics.trends import compute_category_revenue
from core.attribution import data_stamp, refresh_stored_results
from core.models import AnalyticsSnapshot
from core.store_profile import get_store_profile


def refresh_dashboard(*, session: Session, now: datetime) -> dict[str, int]:
    """Keep campaign results and the dashboard's snapshots for the current stamp; drop the
    snapshots of older stamps. Returns how many of each were computed."""
    campaigns = refresh_stored_results(session=session, now=now)
    zone = get_store_profile(session=session).zone
    today = now.astimezone(zone).date()
    stamp = data_stamp(session, now)
    presets = [Period.preset(name, today=today) for name in PRESETS]
    periods = {p for preset in presets for p in (preset, preset.previous())}
    for period in periods:
        found = kpis(session=session, period=period, zone=zone, now=now)
        keep(session, kpis_key(period, zone), stamp, kpis_to_json(found), now)
    for period in presets:
        categories = compute_category_revenue(session, period, zone)
        keep(session, categories_key(period, zone), stamp, frame_to_json(categories), now)
    keep(
        session,
        cohorts_key(today, zone, MONTHS),
        stamp,
        cohorts_to_json(compute_cohorts(session, today, zone, MONTHS)),
        now,
    )
    keep(
        session,
        churn_key(today, zone, MONTHS),
        stamp,
        frame_to_json(compute_churn_by_month(session, today, zone, MONTHS)),
        now,
    )
    session.flush()
    session.execute(delete(AnalyticsSnapshot).where(AnalyticsSnapshot.stamp != stamp))
    return {"campaigns": campaigns, "snapshots": len(periods) + len(presets) + 2}
