"""Bulk helpers that imports stand on, where PostgreSQL behaves unlike SQLite."""

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Boolean, Column, Date, Integer, String, delete, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import imports
from core.db import UTCDateTime, session_scope, table_of
from core.infra import bulk, deferred_upkeep
from core.models import ConsentRecord, Customer, Import, ImportKind, Order, Setting
from core.permissions import SYSTEM
from tests.crashes import dies_on_opening
from tests.integration.conftest import load, prepare
from tests.moments import NOW

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


def index_definitions(session: Session, table: str) -> dict[str, str]:
    """Every index of `table` as the database would create it again."""
    if session.get_bind().dialect.name == "postgresql":
        query = (
            "SELECT indexname, indexdef FROM pg_indexes"
            " WHERE tablename = :table AND schemaname = current_schema()"
        )
    else:  # the unique constraint's own index has no statement: its name stands for it
        query = "SELECT name, coalesce(sql, name) FROM sqlite_master WHERE tbl_name = :table"
        query += " AND type = 'index'"
    return {name: definition for name, definition in session.execute(text(query), {"table": table})}


@pytest.mark.both_databases
def test_indexes_set_aside_are_built_again_as_they_were(database: str) -> None:
    with session_scope() as session:
        before = index_definitions(session, "customers")
        dropped = deferred_upkeep.defer(session, CUSTOMERS, keep={"ix_customers_email"})
        left = index_definitions(session, "customers")
    # Kept: the primary key, the unique customer ID (constraints both) and the one asked for.
    assert dropped == [
        f"ix_customers_{name}"
        for name in (
            "created_at",
            "first_name_lower",
            "first_order_at",
            "last_name_lower",
            "last_order_at",
            "phone",
            "total_spent_cents",
            "zip",
        )
    ]
    assert left == {name: sql for name, sql in before.items() if name not in dropped}
    with session_scope() as session:  # a later transaction, as after a worker that died
        assert deferred_upkeep.restore(session) == dropped
        assert index_definitions(session, "customers") == before
    with session_scope() as session:
        assert deferred_upkeep.restore(session) == []  # nothing left to build


def foreign_keys(session: Session, table: str) -> dict[str, tuple[str, bool]]:
    """Each foreign key of `table`: its definition, and whether its rows were checked."""
    rows = session.execute(
        text(
            "SELECT c.conname, pg_get_constraintdef(c.oid), c.convalidated FROM pg_constraint c"
            " JOIN pg_class t ON t.oid = c.conrelid"
            " WHERE t.relname = :table AND t.relnamespace = current_schema()::regnamespace"
            " AND c.contype = 'f'"
        ),
        {"table": table},
    )
    return {name: (definition, checked) for name, definition, checked in rows}


def upkeep(session: Session, *tables: str) -> dict[str, object]:
    """What a load may set aside on these tables: their indexes and foreign keys."""
    return {t: (index_definitions(session, t), foreign_keys(session, t)) for t in tables}


@pytest.mark.postgresql_only
def test_foreign_keys_set_aside_are_added_back_and_checked(database: str) -> None:
    orders = table_of(Order)
    with session_scope() as session:
        before = foreign_keys(session, "orders")
        dropped = deferred_upkeep.defer(session, orders)
        assert "fk_orders_customer_id_customers" in dropped
        assert foreign_keys(session, "orders") == {}
    with session_scope() as session:
        assert "fk_orders_customer_id_customers" in deferred_upkeep.restore(session)
        assert foreign_keys(session, "orders") == before
        assert all(checked for _, checked in before.values())


@pytest.mark.postgresql_only
def test_a_row_pointing_at_nothing_leaves_its_key_in_force_for_new_rows(
    database: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A customer deleted outright while the key was set aside: the import that added the key
    back does not fail (nor does every later one); the key holds for every row written after,
    and the log says which key finds rows pointing at nothing."""
    consents = table_of(ConsentRecord)
    with session_scope() as session:
        deferred_upkeep.defer(session, consents)
    row = {"channel": "email", "granted": True, "source": "import", "details": {}}
    with session_scope() as session:
        session.execute(insert(ConsentRecord).values(customer_id=404, **row))
    with session_scope() as session:
        deferred_upkeep.restore(session)
        (definition, checked) = foreign_keys(session, "consent_log")[
            "fk_consent_log_customer_id_customers"
        ]
    assert not checked and definition.endswith("NOT VALID")
    assert [r.constraint for r in caplog.records if hasattr(r, "constraint")] == [
        "fk_consent_log_customer_id_customers"
    ]
    with pytest.raises(IntegrityError), session_scope() as session:
        session.execute(insert(ConsentRecord).values(customer_id=405, **row))
    with session_scope() as session:  # set aside and added back again, still NOT VALID
        deferred_upkeep.defer(session, consents)
        deferred_upkeep.restore(session)
        assert not foreign_keys(session, "consent_log")["fk_consent_log_customer_id_customers"][1]
        session.execute(delete(ConsentRecord))  # and the next test meets the key as it was
        session.execute(
            text("ALTER TABLE consent_log VALIDATE CONSTRAINT fk_consent_log_customer_id_customers")
        )


@pytest.mark.both_databases
def test_frames_are_written_as_they_are(database: str) -> None:
    """Blank text stays blank and missing stays missing; quotes, commas and line breaks,
    moments in a zone of their own, dates and flags come back as written. So does a column
    that pd.concat put together from an empty part first (as an import's consent records
    are): pyarrow 26 writes such a column's CSV as garbage."""
    first = pd.DataFrame(
        {
            "n": pd.array([1, None], dtype="Int64"),
            "word": pd.array(["", None], dtype="str"),
            "at": pd.to_datetime(["2026-03-08 01:30", None]).tz_localize("America/Chicago"),
            "day": [date(1990, 5, 6), None],
            "yes": pd.array([True, None], dtype="boolean"),
        }
    )
    second = pd.DataFrame(
        {
            "n": pd.array([3], dtype="Int64"),
            "word": pd.array(['say "hi", then\nleave'], dtype="str"),
            "at": pd.to_datetime(["2026-11-01 06:00:00.25"]).tz_localize("America/Chicago"),
            "day": [date(2000, 2, 29)],
            "yes": pd.array([False], dtype="boolean"),
        }
    )
    parts = [first.iloc[:0].assign(kind="email"), first.assign(kind="email")]
    frame = pd.concat([*parts, second.assign(kind="sms")], ignore_index=True)
    with session_scope() as session:
        table = bulk.temp_table(
            session,
            "written",
            Column("n", Integer),
            Column("word", String),
            Column("at", UTCDateTime()),
            Column("day", Date),
            Column("yes", Boolean),
            Column("kind", String),
        )
        assert bulk.insert_frame(session, table, frame) == 3
        rows = session.execute(select(table).order_by(table.c.n.nulls_last())).all()
    assert [tuple(row) for row in rows] == [
        (1, "", datetime(2026, 3, 8, 7, 30, tzinfo=UTC), date(1990, 5, 6), True, "email"),
        (
            3,
            'say "hi", then\nleave',
            datetime(2026, 11, 1, 12, 0, 0, 250000, tzinfo=UTC),
            date(2000, 2, 29),
            False,
            "sms",
        ),
        (None, None, None, None, None, "email"),
    ]


@pytest.mark.both_databases
def test_many_rows_and_rows_all_alike_are_written_each_once(database: str) -> None:
    """SQLite writes rows a statement at a time in groups (here 450 rows: two groups and the
    rest) and binds a column with one value throughout once; rows all alike, and a single
    row, are written as they are."""
    many = pd.DataFrame({"n": range(450), "word": "same", "none": None})
    alike = pd.DataFrame({"n": [7, 7], "word": ["x", "x"], "none": [None, None]})
    single = pd.DataFrame({"n": [9], "word": ["y"], "none": [None]})
    with session_scope() as session:
        table = bulk.temp_table(
            session, "written", Column("n", Integer), Column("word", String), Column("none", String)
        )
        for frame in (many, alike, single):
            bulk.insert_frame(session, table, frame)
        rows = session.execute(select(table).order_by(table.c.n)).all()
    expected = [(n, "same", None) for n in range(7)]
    expected += [(7, "x", None), (7, "x", None), (7, "same", None), (8, "same", None)]
    expected += [(9, "same", None), (9, "y", None)]
    expected += [(n, "same", None) for n in range(10, 450)]
    assert sorted(tuple(row) for row in rows) == sorted(expected)


@pytest.mark.postgresql_only
def test_a_big_import_builds_its_indexes_after_its_rows(database: str, tmp_path: Path) -> None:
    """Loaded under the indexes its lookups use only, then the rest built: the store ends
    with every index and foreign key it had, and an import that dies midway builds them as it
    fails."""
    with session_scope() as session:
        before = index_definitions(session, "customers")
        consents_before = upkeep(session, "consent_log")
    during: list[set[str]] = []
    consent_keys_during: list[dict[str, tuple[str, bool]]] = []

    def watch(percent: int, message: str = "") -> None:
        with session_scope(read_only=True) as session:
            during.append(set(index_definitions(session, "customers")))
            consent_keys_during.append(foreign_keys(session, "consent_log"))

    path = tmp_path / "c.csv"
    path.write_text("Customer #,E-mail\n" + "".join(f"C{i},c{i}@example.com\n" for i in range(30)))
    import_id = prepare(path)
    summary = imports.run_import(
        unit_of_work=session_scope,
        actor=SYSTEM,
        import_id=import_id,
        now=NOW,
        chunk_rows=10,
        progress=watch,
        defer_indexes_from=30,
    )
    assert summary.inserted == 30
    lookups = {"pk_customers", "uq_customers_external_id", "ix_customers_email"}
    assert during[0] == lookups | {"ix_customers_phone"}  # after the first batch
    assert consent_keys_during[0] == {}
    with session_scope() as session:
        assert index_definitions(session, "customers") == before
        assert upkeep(session, "consent_log") == consents_before
        assert session.get(Setting, deferred_upkeep.KEY) is None
        # the search's lowercased names have statistics again
        names = "SELECT count(*) FROM pg_stats WHERE tablename = 'ix_customers_last_name_lower'"
        assert session.scalar(text(names)) == 1

    path.write_text("Customer #,E-mail\n" + "".join(f"D{i},d{i}@example.com\n" for i in range(40)))
    import_id = prepare(path)
    with pytest.raises(RuntimeError):
        imports.run_import(
            unit_of_work=dies_on_opening(4),  # 1 start, 2 indexes, 3 a batch, 4 dies
            actor=SYSTEM,
            import_id=import_id,
            now=NOW,
            chunk_rows=10,
            defer_indexes_from=30,
        )
    with session_scope() as session:
        assert index_definitions(session, "customers") == before
        assert session.get(Import, import_id).checkpoint_row == 11


@pytest.mark.postgresql_only
def test_indexes_a_dead_worker_left_aside_are_built_by_the_next_import(
    database: str, tmp_path: Path
) -> None:
    with session_scope() as session:
        before = index_definitions(session, "customers")
        deferred_upkeep.defer(session, CUSTOMERS)  # and the worker is killed outright
    load(tmp_path, "Customer #,E-mail\nC1,c1@example.com\n")
    with session_scope() as session:
        assert index_definitions(session, "customers") == before


@pytest.mark.postgresql_only
def test_an_orders_import_builds_its_indexes_before_the_totals(
    database: str, tmp_path: Path
) -> None:
    load(tmp_path, "Customer #,E-mail\nC1,c1@example.com\nC2,c2@example.com\n", name="c.csv")
    with session_scope() as session:
        before = upkeep(session, "orders", "order_items", "customers")
    lines = "".join(
        f"R{n},C{1 + n % 2},2026-11-{1 + n:02d},W-{n % 3},1,{10 + n}\n" for n in range(9)
    )
    content = "Receipt #,Customer #,Date,SKU,Qty,Price\n" + lines
    load(tmp_path, content, ImportKind.ORDERS, name="o.csv", chunk_rows=4, defer_indexes_from=9)
    with session_scope() as session:
        assert upkeep(session, "orders", "order_items", "customers") == before
        totals = session.execute(
            select(Customer.external_id, Customer.order_count, Customer.total_spent_cents)
        ).all()
    assert sorted(totals) == [("C1", 5, 7000), ("C2", 4, 5600)]
