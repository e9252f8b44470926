"""Portable SQL pieces the two backends spell differently."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import String


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
