"""Secondary indexes set aside while a bulk load fills a table, and built again after it.

Building an index over the rows of a table costs far less than keeping it up to date row by
row: 1M customers went into PostgreSQL in 27.0 s under the table's eleven indexes and in
12.0 s under the four an import needs (its primary key, unique customer ID, and the email and
phone it matches by); the other seven were then built in 7.0 s. A load that at least doubles a
table drops the indexes it does not need, and builds them once it is done.

The definitions are kept in the database (the `deferred_indexes` setting) as the database
reports them, before anything is dropped. An import that fails builds them as it stops; one
whose worker was killed leaves them for the next import, or its own resume, to build (every
import ends with `restore`). Unique and primary-key indexes are never set aside: they are the
table's constraints.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import Table, text
from sqlalchemy.orm import Session

from core.infra.bulk import dialect
from core.models import Setting

KEY = "deferred_indexes"


def defer(session: Session, table: Table, *, keep: Collection[str] = ()) -> list[str]:
    """Drop the secondary indexes of `table` not named in `keep`, remembering how to build
    them again. Returns their names."""
    dropped = {
        name: definition
        for name, definition in _secondary_indexes(session, table.name).items()
        if name not in keep
    }
    if not dropped:
        return []
    row = session.get(Setting, KEY, with_for_update=True)
    if row is None:
        session.add(Setting(key=KEY, value=dropped))
    else:
        row.value = row.value | dropped
    session.flush()  # the definitions are saved before the first index goes
    for name in dropped:  # names read from the database's catalog, not from any input
        session.execute(text(f'DROP INDEX "{name}"'))
    return sorted(dropped)


def restore(session: Session) -> list[str]:
    """Build every index a load set aside that is not there (again); the names built."""
    row = session.get(Setting, KEY, with_for_update=True)
    if row is None:
        return []
    present = _index_names(session)
    built = sorted(name for name in row.value if name not in present)
    for name in built:  # the statement the database itself gave, run as it is
        session.connection().exec_driver_sql(row.value[name])
    session.delete(row)
    if built and dialect(session) == "postgresql":
        # An expression index (the lowercased names search uses) has statistics of its own,
        # which only ANALYZE gathers; the load's ANALYZEs ran while it was missing.
        tables = session.scalars(
            text(
                "SELECT DISTINCT tablename FROM pg_indexes"
                " WHERE schemaname = current_schema() AND indexname = ANY(:built)"
            ),
            {"built": built},
        )
        for table in tables:  # names from the catalog
            session.execute(text(f'ANALYZE "{table}"'))
    return built


def _secondary_indexes(session: Session, table: str) -> dict[str, str]:
    """Name → CREATE INDEX statement of each index of `table` that is neither unique nor
    the primary key."""
    if dialect(session) == "postgresql":
        rows = session.execute(
            text(
                "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x"
                " JOIN pg_class i ON i.oid = x.indexrelid"
                " JOIN pg_class t ON t.oid = x.indrelid"
                " WHERE t.relname = :table AND t.relnamespace = current_schema()::regnamespace"
                " AND NOT x.indisunique AND NOT x.indisprimary"
            ),
            {"table": table},
        )
    else:  # origin 'c': made by CREATE INDEX, not by a constraint
        rows = session.execute(
            text(
                "SELECT m.name, m.sql FROM pragma_index_list(:table) AS l"
                " JOIN sqlite_master AS m ON m.name = l.name"
                """ WHERE NOT l."unique" AND l.origin = 'c'"""
            ),
            {"table": table},
        )
    return {name: definition for name, definition in rows}


def _index_names(session: Session) -> set[str]:
    if dialect(session) == "postgresql":
        query = "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"
    else:
        query = "SELECT name FROM sqlite_master WHERE type = 'index'"
    return set(session.scalars(text(query)))
