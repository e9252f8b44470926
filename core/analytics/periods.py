"""Date ranges in the store's time zone: the period a dashboard shows, the one before it to
compare with, and the day, week or month buckets its charts are drawn in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

import pandas as pd

from core.errors import ValidationError

MAX_DAYS = 3 * 366
"""The longest period a dashboard or a report covers (three years)."""


PRESET_DAYS = {"Last 7 days": 7, "Last 30 days": 30, "Last 90 days": 90}
PRESETS = (*PRESET_DAYS, "This year")
"""The date ranges the dashboard offers, whose figures the results job keeps ready."""


def day_start(day: date, zone: ZoneInfo) -> datetime:
    """Midnight starting `day` in `zone`."""
    return datetime.combine(day, time.min, zone)


class Bucket(StrEnum):
    DAY = "day"
    WEEK = "week"
    """Weeks start on Monday."""
    MONTH = "month"


@dataclass(frozen=True)
class Period:
    """The days `first` to `last`, both included, in the store's calendar."""

    first: date
    last: date

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ValidationError(f"The period ends ({self.last}) before it starts ({self.first}).")
        if self.days > MAX_DAYS:
            raise ValidationError(
                f"The period covers {self.days:,} days; at most {MAX_DAYS:,} can be shown at once."
            )

    @classmethod
    def last_days(cls, days: int, *, today: date) -> Period:
        """The `days` days ending with `today`."""
        return cls(today - timedelta(days=days - 1), today)

    @classmethod
    def year_to_date(cls, *, today: date) -> Period:
        return cls(date(today.year, 1, 1), today)

    @classmethod
    def preset(cls, name: str, *, today: date) -> Period:
        """One of `PRESETS` ending with `today`."""
        if name == "This year":
            return cls.year_to_date(today=today)
        return cls.last_days(PRESET_DAYS[name], today=today)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def previous(self) -> Period:
        """The period of the same length just before this one."""
        return Period(self.first - timedelta(days=self.days), self.first - timedelta(days=1))

    def bounds(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """The period as [start, end) instants."""
        return day_start(self.first, zone), day_start(self.last + timedelta(days=1), zone)

    def label(self) -> str:
        if self.first.year == self.last.year:
            return f"{self.first:%b %-d} – {self.last:%b %-d, %Y}"
        return f"{self.first:%b %-d, %Y} – {self.last:%b %-d, %Y}"

    def buckets(self, bucket: Bucket) -> list[date]:
        """The first day of every bucket the period touches."""
        starts = pd.date_range(self.first, self.last, freq="D")
        return sorted(set(bucket_starts(pd.Series(starts), bucket)))


def bucket_starts(days: pd.Series, bucket: Bucket) -> pd.Series:
    """The first day of each day's bucket (`days` holds dates or naive timestamps)."""
    stamps = pd.to_datetime(days).dt.normalize()
    if bucket == Bucket.WEEK:
        stamps = stamps - pd.to_timedelta(stamps.dt.day_of_week, unit="D")
    elif bucket == Bucket.MONTH:
        stamps = stamps.dt.to_period("M").dt.start_time
    return stamps.dt.date


def local_days(hours: pd.Series, zone: ZoneInfo) -> pd.Series:
    """UTC hour buckets ('YYYY-MM-DD HH:00:00', `infra.sql.hour_bucket`) as naive local
    timestamps in `zone`."""
    local = pd.to_datetime(hours).dt.tz_localize("UTC").dt.tz_convert(zone)
    return local.dt.tz_localize(None)
