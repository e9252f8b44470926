"""Bulk helpers that imports stand on, where PostgreSQL behaves unlike SQLite."""

from collections.abc import Iterator

import pytest
from sqlalchemy import delete, insert, text
from sqlalchemy.orm import Session

from core.db import session_scope, table_of
from core.infra import bulk
from core.models import Customer

CUSTOMERS = table_of(Customer)


def statistics(session: Session) -> tuple[float, int]:
    """The row count PostgreSQL plans customers' queries by, and how often it was analyzed."""
    row = session.execute(
        text(
            "SELECT c.reltuples, s.analyze_count FROM pg_class c"
            " JOIN pg_stat_user_tables s ON s.relid = c.oid"
            " WHERE c.relname = 'customers' AND s.schemaname = current_schema()"
        )
    ).one()
    return row[0], row[1]


@pytest.fixture
def analyzed_empty_after(database: str) -> Iterator[str]:
    """The next test on this database meets the statistics of an empty customers table, not
    those of this test's 20,000 rows, every one a 'manual' customer with no orders: a table
    unlike any that test will read."""
    yield database
    with session_scope() as session:
        session.execute(delete(Customer))
        session.execute(text("ANALYZE customers"))


@pytest.mark.slow
@pytest.mark.postgresql_only
def test_a_table_filled_from_empty_is_analyzed_once_it_has_doubled(
    analyzed_empty_after: str,
) -> None:
    """Planned as the empty table it was, an import's lookup of 50,000 keys in a million
    customers scans them all (bench/import_speed.py: 0.47 s instead of 0.08 s a batch)."""
    with session_scope() as session:
        session.execute(insert(Customer), [{"email": f"p{i}@example.com"} for i in range(20_000)])
        # Counters reach pg_stat_user_tables when this connection next goes idle, at commit.
        session.execute(text("SELECT pg_stat_force_next_flush()"))
    with session_scope() as session:
        planned_rows, analyzed = statistics(session)
        assert planned_rows != 20_000
        bulk.keep_statistics(session, CUSTOMERS)
    with session_scope() as session:
        assert statistics(session) == (20_000, analyzed + 1)
        bulk.keep_statistics(session, CUSTOMERS)  # nothing written since: nothing to do
    with session_scope() as session:
        assert statistics(session) == (20_000, analyzed + 1)
