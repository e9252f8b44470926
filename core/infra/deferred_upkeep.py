"""Secondary indexes and foreign keys set aside while a bulk load fills a table, and built
again after it.

Building an index over the rows of a table costs far less than keeping it up to date row by
row: 1M customers went into PostgreSQL in 27.0 s under the table's eleven indexes and in
12.0 s under the four an import needs (its primary key, unique customer ID, and the email and
phone it matches by); the other seven were then built in 7.0 s. A foreign key likewise checks
(and on PostgreSQL locks) the row each new row points at, one row at a time, where adding it
back checks every row in one join: 1M orders went in in 15.1 s with their key to customers
and in 10.6 s without it, and adding it back took 1.0 s (800,000 consent records: 7.0 s
against 2.5 + 1.0 s). A load that at least doubles a table sets aside what it does not need,
and builds it once it is done.

The definitions are kept in the database (the `deferred_indexes` setting) as the database
reports them, before anything is dropped. An import that fails builds them as it stops; one
whose worker was killed leaves them for the next import, or its own resume, to build (every
import ends with `restore`). Unique and primary-key indexes are never set aside: they are the
table's constraints. Foreign keys are set aside on PostgreSQL only (SQLite's are part of the
table's definition, and cheap: a probe of the parent's row id).
"""

from __future__ import annotations

import logging
from collections.abc import Collection

from sqlalchemy import Table, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.infra.bulk import dialect
from core.models import Setting

log = logging.getLogger(__name__)

KEY = "deferred_indexes"
"""The setting that holds what is set aside: name → the statement that builds it again."""


def defer(session: Session, table: Table, *, keep: Collection[str] = ()) -> list[str]:
    """Drop the secondary indexes of `table` not named in `keep`, and its foreign keys,
    remembering how to build them again. Returns their names."""
    indexes = {
        name: definition
        for name, definition in _secondary_indexes(session, table.name).items()
        if name not in keep
    }
    foreign_keys = _foreign_keys(session, table.name)
    dropped = indexes | foreign_keys
    if not dropped:
        return []
    row = session.get(Setting, KEY, with_for_update=True)
    if row is None:
        session.add(Setting(key=KEY, value=dropped))
    else:
        row.value = row.value | dropped
    session.flush()  # the definitions are saved before the first index goes
    # Names read from the database's catalog, not from any input.
    for name in foreign_keys:
        session.execute(text(f'ALTER TABLE "{table.name}" DROP CONSTRAINT "{name}"'))
    for name in indexes:
        session.execute(text(f'DROP INDEX "{name}"'))
    return sorted(dropped)


def restore(session: Session) -> list[str]:
    """Build every index and foreign key a load set aside that is not there (again); the
    names built."""
    row = session.get(Setting, KEY, with_for_update=True)
    if row is None:
        return []
    present = _index_names(session) | _constraint_names(session)
    built = sorted(name for name in row.value if name not in present)
    for name in built:  # the statement the database itself gave, run as it is
        session.connection().exec_driver_sql(row.value[name])
    session.delete(row)
    if built and dialect(session) == "postgresql":
        _validate(session, built)
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


def _validate(session: Session, built: list[str]) -> None:
    """Check the rows of each foreign key added back (one join per key). Should a row point
    at nothing (a parent deleted outright while its key was set aside), the key stays as
    added, NOT VALID: kept for every row written from now on, and logged, rather than
    failing this import and every one after it."""
    added = session.execute(
        text(
            "SELECT t.relname, c.conname FROM pg_constraint c"
            " JOIN pg_class t ON t.oid = c.conrelid"
            " WHERE c.connamespace = current_schema()::regnamespace"
            " AND NOT c.convalidated AND c.conname = ANY(:built)"
        ),
        {"built": built},
    ).all()
    for table, name in added:  # names from the catalog
        try:
            with session.begin_nested():
                session.execute(text(f'ALTER TABLE "{table}" VALIDATE CONSTRAINT "{name}"'))
        except IntegrityError as exc:
            log.error(
                "a foreign key set aside by a load finds rows pointing at nothing",
                extra={"table": table, "constraint": name, "error": str(exc.orig)},
            )


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


def _foreign_keys(session: Session, table: str) -> dict[str, str]:
    """Name → the statement adding it back (NOT VALID: `restore` then checks its rows) of
    each foreign key of `table`, on PostgreSQL."""
    if dialect(session) != "postgresql":
        return {}
    rows = session.execute(
        text(
            "SELECT c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c"
            " JOIN pg_class t ON t.oid = c.conrelid"
            " WHERE t.relname = :table AND t.relnamespace = current_schema()::regnamespace"
            " AND c.contype = 'f'"
        ),
        {"table": table},
    )
    return {
        # One left NOT VALID by an earlier load is described so; it is added back as it was.
        name: f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" '
        f"{definition.removesuffix(' NOT VALID')} NOT VALID"
        for name, definition in rows
    }


def _index_names(session: Session) -> set[str]:
    if dialect(session) == "postgresql":
        query = "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"
    else:
        query = "SELECT name FROM sqlite_master WHERE type = 'index'"
    return set(session.scalars(text(query)))


def _constraint_names(session: Session) -> set[str]:
    if dialect(session) != "postgresql":
        return set()
    query = "SELECT conname FROM pg_constraint WHERE connamespace = current_schema()::regnamespace"
    return set(session.scalars(text(query)))
