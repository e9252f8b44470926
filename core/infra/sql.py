"""Portable SQL pieces the two backends spell differently."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import Integer, String


class hour_bucket(FunctionElement[str]):
    """A UTC timestamp truncated to the hour, as text 'YYYY-MM-DD HH:00:00'.

    Analytics group by hour in the database (at most 8,760 rows a year, whatever the volume) and
    convert to the store's time zone in pandas, which neither backend does the same way.
    """

    type = String()
    inherit_cache = True
    name = "hour_bucket"


@compiles(hour_bucket, "sqlite")
def _hour_bucket_sqlite(element: hour_bucket, compiler: Any, **kw: Any) -> str:
    return f"strftime('%Y-%m-%d %H:00:00', {compiler.process(element.clauses, **kw)})"


@compiles(hour_bucket, "postgresql")
def _hour_bucket_postgresql(element: hour_bucket, compiler: Any, **kw: Any) -> str:
    arg = compiler.process(element.clauses, **kw)
    return f"to_char(date_trunc('hour', {arg} AT TIME ZONE 'UTC'), 'YYYY-MM-DD HH24:00:00')"


class day_bucket(FunctionElement[str]):
    """A UTC timestamp's calendar day as text 'YYYY-MM-DD', for counting purchase days."""

    type = String()
    inherit_cache = True
    name = "day_bucket"


@compiles(day_bucket, "sqlite")
def _day_bucket_sqlite(element: day_bucket, compiler: Any, **kw: Any) -> str:
    return f"date({compiler.process(element.clauses, **kw)})"


@compiles(day_bucket, "postgresql")
def _day_bucket_postgresql(element: day_bucket, compiler: Any, **kw: Any) -> str:
    arg = compiler.process(element.clauses, **kw)
    return f"to_char({arg} AT TIME ZONE 'UTC', 'YYYY-MM-DD')"


class unindexed(FunctionElement[Any]):
    """A column SQLite should not search by index (`+column`); the column itself elsewhere.

    SQLite (built without STAT4) assumes any range on an indexed column is selective, so
    'spent at least $50' walks an index over 90% of a million customers with a table lookup per
    row: ten times slower than reading the table. Segment rules read most of the table anyway;
    PostgreSQL has statistics and chooses for itself.
    """

    inherit_cache = True
    name = "unindexed"

    def __init__(self, column: Any) -> None:
        super().__init__(column)
        self.type = column.type


@compiles(unindexed, "sqlite")
def _unindexed_sqlite(element: unindexed, compiler: Any, **kw: Any) -> str:
    return f"+{compiler.process(element.clauses, **kw)}"


@compiles(unindexed)
def _unindexed_default(element: unindexed, compiler: Any, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


class month_index(FunctionElement[int]):
    """A timestamp's month in a time zone as one number: year × 12 + month − 1.

    PostgreSQL converts with AT TIME ZONE; SQLite, which knows no zones, calls `local_month`, a
    Python function every SQLite connection is given (`core.db`).
    """

    type = Integer()
    inherit_cache = True
    name = "month_index"

    def __init__(self, column: Any, zone: str) -> None:
        super().__init__(column, literal(zone, String()))


@compiles(month_index, "sqlite")
def _month_index_sqlite(element: month_index, compiler: Any, **kw: Any) -> str:
    return f"local_month({compiler.process(element.clauses, **kw)})"


@compiles(month_index, "postgresql")
def _month_index_postgresql(element: month_index, compiler: Any, **kw: Any) -> str:
    column, zone = (compiler.process(c, **kw) for c in element.clauses)
    local = f"({column} AT TIME ZONE {zone})"
    year, month = (f"CAST(extract({part} FROM {local}) AS INTEGER)" for part in ("year", "month"))
    return f"({year} * 12 + {month} - 1)"


@functools.lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_month(stored: str | None, zone: str) -> int | None:
    """SQLite's `local_month(timestamp, zone)`: a naive UTC timestamp as SQLite stores it
    ('2026-11-27 05:30:00[.ffffff]'), as `month_index` counts months in `zone`."""
    if stored is None:
        return None
    local = datetime.fromisoformat(stored).replace(tzinfo=UTC).astimezone(_zone(zone))
    return local.year * 12 + local.month - 1
