"""Bulk reads and writes for imports: whole batches in a few round trips, never a query per row.

- `lookup` fetches the rows whose key is in a list (an array parameter on PostgreSQL, chunked
  IN lists on SQLite), so matching can happen in pandas.
- `insert_frame` writes a DataFrame into a table: COPY of CSV that Arrow writes on
  PostgreSQL, INSERTs of many rows each into a scratch table and one INSERT … SELECT on
  SQLite, both straight from the driver (SQLAlchemy's per-row work would double the cost).
- `reserve_ids` hands out the ids new rows will get, so related rows can point at them before
  they exist.
- `temp_table` makes a per-transaction scratch table for set-based UPDATE … FROM.
- `is_in` asks which values of a column are among a batch's keys.
- `keep_statistics` re-analyzes tables an import is filling, so its lookups stay on the indexes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, date
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pa_compute
import pyarrow.csv as pa_csv
from sqlalchemy import Column, MetaData, Select, Table, bindparam, cast, func, select, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import FromClause

# SQLite gets 'YYYY-MM-DD HH:MM:SS.ffffff', as SQLAlchemy stores datetimes there, so written
# values compare equal to stored ones; PostgreSQL gets the UTC clock time followed by '+00'.


def dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def key_set(session: Session, values: Iterable[Any], key_type: Any) -> Select[Any]:
    """A subquery of the given keys, passed as one parameter: nothing to compile or adapt
    per key, and no limit on how many (SQLite allows 32,766 variables per statement)."""
    keys, value = _keys(session, values, key_type)
    return select(value).select_from(keys)


def _keys(
    session: Session, values: Iterable[Any], key_type: Any
) -> tuple[FromClause, ColumnElement[Any]]:
    """The distinct keys among `values`, sorted, as a table function and its column."""
    wanted = sorted({value for value in values if value is not None and value == value})
    if dialect(session) == "postgresql":
        payload = bindparam("keys", wanted, type_=JSONB)
        each = func.jsonb_array_elements_text(payload).table_valued("value")
        return each, cast(each.c.value, key_type)
    each = func.json_each(json.dumps(wanted)).table_valued("value")
    return each, each.c.value


def lookup(
    session: Session,
    key: Column[Any],
    values: Iterable[Any],
    columns: Sequence[ColumnElement[Any]],
    *conditions: ColumnElement[bool],
) -> pd.DataFrame:
    """Rows whose `key` is one of `values`, as a DataFrame of `columns` (plus `key` as 'key').

    The table is joined to the keys in their sorted order: the database probes `key`'s index
    in order, and reads rows stored in that order page by page (50,000 keys among a million
    rows: 0.28 s on PostgreSQL, 0.43 s as `key IN (keys)`, which visits them in hash order)."""
    names = ["key", *(c.name for c in columns)]
    keys, value = _keys(session, values, key.type)
    query = select(key.label("key"), *columns).join_from(keys, key.table, key == value)
    rows = [tuple(row) for row in session.execute(query.where(*conditions))]
    return pd.DataFrame(rows, columns=names)


def mapping(session: Session, key: Column[Any], value: Column[Any]) -> pd.Series:
    """Every `key` of the table (but missing ones) → its `value`, read in one pass straight
    from the driver (a million rows: no SQLAlchemy row object for each)."""
    raw = session.connection().connection.driver_connection
    assert raw is not None  # a connection in use has its driver's
    cursor = raw.cursor()
    # Names come from our own table definitions.
    cursor.execute(
        f"SELECT {key.name}, {value.name} FROM {key.table.name} WHERE {key.name} IS NOT NULL"  # noqa: S608
    )
    rows = cursor.fetchall()
    keys = [row[0] for row in rows]
    return pd.Series([row[1] for row in rows], index=pd.Index(keys, dtype="str"), dtype="Int64")


def insert_frame(session: Session, table: Table, frame: pd.DataFrame) -> int:
    """Insert every row of `frame` (its columns name the table's) in one bulk operation."""
    if frame.empty:
        return 0
    columns = list(frame.columns)
    connection = session.connection()
    raw = connection.connection.driver_connection
    assert raw is not None  # a connection in use has its driver's
    if connection.dialect.name == "postgresql":
        statement = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN (FORMAT csv)"
        with raw.cursor().copy(statement) as copy:
            copy.write(_csv(frame))
        return len(frame)
    # SQLite: the rows go into an unindexed scratch table in memory, then into the table with one
    # INSERT … SELECT. An executemany straight into the table runs the insert statement once per
    # row, opening a cursor on the table and each of its indexes every time; measured on the 1M
    # customers of bench/import_speed.py (11 indexes), 33 s against 26 s staged. A column with
    # one value throughout (a batch's source, status, stamps) is bound once, in the SELECT.
    # Names come from our own table definitions, never from an uploaded file.
    constant = [name for name in columns if frame[name].nunique(dropna=False) == 1]
    if len(constant) == len(columns):  # one row (or rows all alike): bound as they are
        constant = []
    varying = [name for name in columns if name not in constant]
    values = [_plain(frame[name].iloc[:1]).tolist()[0] for name in constant]
    cursor = raw.cursor()
    cursor.execute(f"CREATE TEMPORARY TABLE bulk_rows ({', '.join(varying)})")
    try:
        _stage_rows(cursor, "bulk_rows", frame[varying])
        chosen = ", ".join([*varying, *("?" for _ in constant)])
        cursor.execute(
            f"INSERT INTO {table.name} ({', '.join([*varying, *constant])})"  # noqa: S608
            f" SELECT {chosen} FROM bulk_rows",
            values,
        )
    finally:
        cursor.execute("DROP TABLE bulk_rows")
    return len(frame)


ROWS_PER_STATEMENT = 200
"""Rows a SQLite staging INSERT carries (fewer where so many would pass SQLite's 32,766
variables): a statement a row binds the same values but runs 200 times as many statements
(1M customers: 4.3-5.1 s against 3.0-3.9 s staged 200 at a time; 1,000 at a time is slower)."""


def _stage_rows(cursor: Any, scratch: str, frame: pd.DataFrame) -> None:
    """Insert the rows of `frame` into the scratch table, many rows to a statement."""
    width = len(frame.columns)
    per = max(1, min(ROWS_PER_STATEMENT, 32_766 // width))
    # Every value in row order, one flat list; each statement takes a slice of it.
    flat = np.column_stack([_plain(series) for _, series in frame.items()]).ravel().tolist()
    row = "(" + ", ".join("?" for _ in frame.columns) + ")"
    into = f"INSERT INTO {scratch} ({', '.join(frame.columns)}) VALUES "  # noqa: S608
    full, step = into + ", ".join([row] * per), per * width
    end = len(frame) // per * step
    for start in range(0, end, step):
        cursor.execute(full, flat[start : start + step])
    if end < len(flat):
        cursor.execute(into + ", ".join([row] * ((len(flat) - end) // width)), flat[end:])


def row_count(session: Session, table: Table) -> int:
    """How many rows `table` holds: what a big load is measured against."""
    return session.scalar(select(func.count()).select_from(table)) or 0


def reserve_ids(session: Session, table: Table, count: int) -> list[int]:
    """The next `count` ids of `table`, reserved for this transaction's inserts."""
    if count == 0:
        return []
    if dialect(session) == "postgresql":
        # One row holding an array, not `count` rows: fetching 200,000 rows one by one cost
        # more than drawing the numbers.
        sequence = f"{table.name}_id_seq"
        drawn = select(func.nextval(sequence).label("id")).select_from(
            func.generate_series(1, count)
        )
        ids = session.scalar(select(func.array_agg(drawn.subquery().c.id))) or []
        return [int(i) for i in ids]
    # SQLite: the transaction holds the write lock (BEGIN IMMEDIATE), so max(id) stays ours.
    start = session.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one() + 1
    return list(range(start, start + count))


def is_in(series: pd.Series, values: Iterable[Any]) -> pd.Series:
    """`series.isin(values)`, without the slow path of pandas' pyarrow strings, whose `isin`
    makes a pyarrow scalar of every value asked about (a tenth of a second per 50,000 keys)."""
    return series.astype(object).isin(set(values))


GROWTH_WORTH_ANALYZING = 1_000
"""Rows written since a table's statistics were taken below which they are left as they are
(an ANALYZE of a table this small takes milliseconds; doubling keeps them few)."""


def keep_statistics(session: Session, *tables: Table) -> None:
    """ANALYZE, on PostgreSQL, each of `tables` that has had more rows written since its
    statistics were taken than it had then (and at least `GROWTH_WORTH_ANALYZING`).

    A table an import fills from empty is otherwise planned as the empty table it was: a
    lookup of 50,000 keys then scans every row instead of probing the index (0.47 s against
    0.08 s at 1M customers), and the import slows as it grows. Autovacuum analyzes too, but
    only between its naps. Doubling keeps this to a few ANALYZEs of a sample each per import.
    """
    if dialect(session) != "postgresql":
        return  # SQLite plans lookups by their index without statistics
    stale = session.scalars(
        text(
            "SELECT relname FROM pg_stat_user_tables"
            " WHERE schemaname = current_schema() AND relname = ANY(:names)"
            " AND n_mod_since_analyze >= :least"
            " AND n_mod_since_analyze > n_live_tup - n_mod_since_analyze"
        ),
        {"names": [table.name for table in tables], "least": GROWTH_WORTH_ANALYZING},
    ).all()
    for name in stale:  # names from pg_stat_user_tables, matched against our own tables
        session.execute(text(f'ANALYZE "{name}"'))


def temp_table(session: Session, name: str, *columns: Column[Any]) -> Table:
    """A fresh temporary table on this transaction's connection."""
    table = Table(name, MetaData(), *columns, prefixes=["TEMPORARY"])
    connection = session.connection()
    connection.execute(text(f"DROP TABLE IF EXISTS {name}"))
    table.create(connection)
    return table


def _csv(frame: pd.DataFrame) -> bytes:
    """The rows as COPY's CSV, written by Arrow column by column in C++: no Python object per
    value (psycopg's `write_row` takes a tuple per row, which cost the 1M customers of
    bench/import_speed.py 4 s of the writer's time). Arrow quotes every string, so an empty
    one stays '' while a missing value is the unquoted blank COPY reads as NULL."""
    # One chunk per column: pyarrow 26's CSV writer writes garbage for a column whose chunks
    # include an empty one (as pd.concat of an empty part leaves).
    arrow = pa.Table.from_pandas(frame, preserve_index=False).combine_chunks()
    for i, column in enumerate(arrow.schema):
        if pa.types.is_timestamp(column.type) and column.type.tz is not None:
            # The writer formats a zoned moment at about 1 µs each, a plain one 20 times faster:
            # the UTC clock time (the stored value, zone dropped), with its offset after it.
            clock = arrow.column(i).cast(pa.timestamp(column.type.unit)).cast(pa.string())
            arrow = arrow.set_column(
                i, column.name, pa_compute.binary_join_element_wise(clock, "+00", "")
            )
    sink = pa.BufferOutputStream()
    options = pa_csv.WriteOptions(include_header=False, quoting_style="needed")
    pa_csv.write_csv(arrow, sink, options)
    return sink.getvalue().to_pybytes()


def _plain(series: pd.Series) -> Any:
    """Values sqlite3 binds as they are: None for missing, text for dates and times."""
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        # Each distinct moment formatted once (an import stamps a whole batch with one), by
        # numpy in C; pandas' strftime goes value by value.
        codes, moments = pd.factorize(series)  # a missing value's code is -1
        utc = pd.DatetimeIndex(moments).tz_convert(UTC).tz_localize(None)
        text = np.datetime_as_string(utc.to_numpy("datetime64[us]"), unit="us").tolist()
        return np.array([*(t.replace("T", " ") for t in text), None], dtype=object)[codes]
    if series.dtype == object and isinstance(next(iter(series.dropna()), None), date):
        series = pd.to_datetime(series).dt.strftime("%Y-%m-%d")
    elif series.dtype.kind == "M":  # naive datetimes: to_numpy keeps NaT despite na_value
        series = series.astype(object).where(series.notna(), None)
    elif series.dtype.kind == "b":  # sqlite3 binds an int at once, a bool after an adapter
        series = series.astype("Int64")  # lookup that costs more than the binding
    return series.to_numpy(dtype=object, na_value=None)  # type: ignore[call-overload]
