from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base


class AnalyticsSnapshot(Base):
    """A dashboard figure (a preset period's key figures, the cohorts, churn by month) as
    computed at `stamp`, kept by the results job so the first manager of the day does not wait."""

    __tablename__ = "analytics_snapshots"

    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    stamp: Mapped[str] = mapped_column(String(64))
    computed_at: Mapped[datetime]
    value: Mapped[dict[str, Any]]
