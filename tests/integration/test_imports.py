"""Imports on SQLite and PostgreSQL: messy files go in, bad rows are reported with row and reason,
nothing is half-written, and an interrupted import resumes without duplicates."""

import os
import stat
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import imports
from core.db import session_scope
from core.errors import PermissionDenied, ValidationError
from core.imports.files import UnusableFile
from core.models import (
    ConsentRecord,
    Customer,
    Import,
    ImportKind,
    ImportStatus,
    Order,
    OrderItem,
    Product,
)
from core.permissions import SYSTEM, Actor, Role
from tests.crashes import dies_on_opening
from tests.integration.conftest import load
from tests.moments import NOW

CUSTOMERS_CSV = """Customer #,First Name,Last Name,E-mail,Cell,DOB,Zip Code,Email Opt In,SMS Opt In
C1,Ana,Lopez,ana@example.com,(312) 555-0101,1985-03-02,60622,yes,yes
C2,Bob,Stone,bob@example,312-555-0102,1990-01-01,60601,no,no
C3,Cy,Young,cy@example.com,,2010-05-05,60614,yes,yes
C1,Ana,Lopez,ana@example.com,(312) 555-0101,1985-03-02,60622,yes,yes
,Dee,Null,,,,,,
C4,Eve,Adams,eve@example.com,+1 773 555 0104,12/25/1970,33139,y,n
C5,Fay,Kim,fay@example.com,312-555-0105,2099-01-01,60622,yes,no
"""


@pytest.mark.both_databases
def test_city_state_and_time_zone_come_from_the_zip(database: str, tmp_path: Path) -> None:
    """A file with only ZIP codes fills city, state and zone from the ZIP table; a city the
    file or the record already has wins; a ZIP that cannot be one is refused by name."""
    load(tmp_path, "Customer ID,Email,City\nZ1,kept@example.com,Lincoln Park\n", name="a.csv")
    summary, found = load(
        tmp_path,
        "Customer ID,Email,ZIP\n"
        "Z1,kept@example.com,60614\n"
        "Z2,pen@example.com,32501\n"
        "Z3,bos@example.com,2134\n"
        "Z4,bad@example.com,1234\n"
        "Z5,new@example.com,99999\n",
        name="b.csv",
    )
    assert (summary.inserted, summary.updated, summary.failed, summary.warnings) == (3, 1, 1, 1)
    assert (5, "error", "ZIP code", "not a 5-digit US ZIP code") in found
    assert (4, "warning", "ZIP code", "read as 02134 (a leading zero lost?): check it") in found
    with session_scope() as session:
        by_id = customers(session)
        placed = {k: (c.city, c.state, c.zip, c.timezone) for k, c in by_id.items()}
    assert placed == {
        "Z1": ("Lincoln Park", "IL", "60614", "America/Chicago"),  # the city it had stays
        "Z2": ("Pensacola", "FL", "32501", "America/Chicago"),  # the panhandle is Central
        "Z3": ("Allston", "MA", "02134", "America/New_York"),  # the lost leading zero
        # A code the table does not know fills no city; its first digits still say Alaska.
        "Z5": ("", "", "99999", "America/Anchorage"),
    }


def customers(session: Session) -> dict[str, Customer]:
    return {c.external_id: c for c in session.scalars(select(Customer))}


@pytest.mark.both_databases
def test_good_rows_go_in_and_bad_rows_are_reported(database: str, tmp_path: Path) -> None:
    summary, found = load(tmp_path, CUSTOMERS_CSV)
    assert (summary.inserted, summary.updated, summary.skipped, summary.failed) == (3, 0, 1, 3)
    assert summary.total_rows == 7 and summary.status == ImportStatus.SUCCEEDED
    assert (3, "error", "Email", "not a valid email address") in found
    assert (5, "skipped", "", "duplicate of row 2") in found
    assert (6, "error", "", "no customer ID, email or phone to tell who this is") in found
    assert (8, "error", "Date of birth", "is in the future") in found
    assert (4, "warning", "Date of birth", "under 21: imported, but never marketed to") in found
    assert (
        4,
        "warning",
        "SMS consent",
        "SMS consent not recorded: there is no phone number",
    ) in found
    with session_scope() as session:
        by_id = customers(session)
        assert set(by_id) == {"C1", "C3", "C4"}
        ana = by_id["C1"]
        assert (ana.email, ana.phone, ana.zip, ana.timezone) == (
            "ana@example.com",
            "+13125550101",
            "60622",
            "America/Chicago",
        )
        assert ana.email_opt_in and ana.sms_opt_in and ana.email_consent_source == "import"
        assert by_id["C4"].timezone == "America/New_York" and by_id["C4"].birth_date.year == 1970
        assert not by_id["C3"].sms_opt_in  # under 21: no SMS consent whatever the file says
        records = session.scalars(select(ConsentRecord).order_by(ConsentRecord.id)).all()
        assert {(r.customer_id, r.channel, r.granted, r.source) for r in records} == {
            (ana.id, "email", True, "import"),
            (ana.id, "sms", True, "import"),
            (by_id["C3"].id, "email", True, "import"),
            (by_id["C4"].id, "email", True, "import"),
        }


@pytest.mark.both_databases
def test_reimport_updates_without_duplicates(database: str, tmp_path: Path) -> None:
    load(tmp_path, CUSTOMERS_CSV)
    changed = CUSTOMERS_CSV.replace("Ana,Lopez,ana@example.com", "Ana,Lopez-Diaz,ana@example.com")
    changed = changed.replace(
        "C4,Eve,Adams,eve@example.com,+1 773 555 0104,12/25/1970,33139,y,n",
        "C4,Eve,Adams,eve@example.com,,12/25/1970,33139,n,n",
    )
    summary, _ = load(tmp_path, changed, name="again.csv")
    assert (summary.inserted, summary.updated) == (0, 3)
    with session_scope() as session:
        by_id = customers(session)
        assert len(by_id) == 3 and by_id["C1"].last_name == "Lopez-Diaz"
        assert by_id["C1"].version > 1, "an edit form opened before the import is outdated"
        eve = by_id["C4"]
        assert eve.phone == "+17735550104", "a blank cell never erases what we know"
        assert not eve.email_opt_in and eve.email_opt_in_at is None
        revoked = session.scalars(
            select(ConsentRecord).where(ConsentRecord.customer_id == eve.id)
        ).all()
        assert [(r.channel, r.granted) for r in revoked] == [("email", True), ("email", False)]


@pytest.mark.both_databases
def test_rows_match_by_email_then_phone_but_an_email_under_another_id_is_a_conflict(
    database: str, tmp_path: Path
) -> None:
    load(tmp_path, "Customer #,E-mail,Cell\nH1,home@example.com,3125550111\n")
    later = (
        "Customer #,First Name,E-mail,Cell\n"
        ",Sam,home@example.com,\n"  # no ID: the address finds customer H1
        "H2,Kim,home@example.com,\n"  # another ID with H1's email: a conflict, not applied
        ",Lee,,312-555-0111\n"  # matched by phone
    )
    summary, found = load(tmp_path, later, name="later.csv")
    assert (summary.inserted, summary.updated, summary.skipped) == (0, 2, 1), found
    with session_scope() as session:
        by_id = customers(session)
        assert set(by_id) == {"H1"}
        holder = by_id["H1"].id
    assert [(row, message) for row, _, _, message in found] == [
        (3, f"the email belongs to customer #{holder}, who has another customer ID: not applied")
    ]
    with session_scope() as session:
        by_id = customers(session)
        assert by_id["H1"].first_name == "Lee", "the last row about a customer wins"


@pytest.mark.both_databases
def test_deleted_customers_are_not_brought_back(database: str, tmp_path: Path) -> None:
    from core.customers import soft_delete

    load(tmp_path, "Customer #,E-mail\nD1,d@example.com\n")
    with session_scope() as session:
        soft_delete(
            session=session, actor=SYSTEM, customer_ids=[customers(session)["D1"].id], now=NOW
        )
    summary, found = load(tmp_path, "Customer #,E-mail\nD1,new@example.com\n", name="b.csv")
    assert summary.skipped == 1 and "was deleted" in found[0][3]
    with session_scope() as session:
        assert customers(session)["D1"].email == "d@example.com"


@pytest.mark.parametrize(
    ("content", "name"),
    [
        ("Customer #;E-mail;First Name\nX1;x1@example.com;José\n", "semicolon.csv"),
        ("Customer #\tE-mail\tFirst Name\nX1\tx1@example.com\tJosé\n", "tabs.txt"),
        ("Customer #,E-mail,First Name\nX1,x1@example.com,José\n".encode("latin-1"), "latin1.csv"),
        ("\ufeffCustomer #,E-mail,First Name\nX1,x1@example.com,José\n", "bom.csv"),
    ],
)
def test_file_shapes(database: str, tmp_path: Path, content: str | bytes, name: str) -> None:
    summary, found = load(tmp_path, content, name=name)
    assert summary.inserted == 1 and not found
    with session_scope() as session:
        assert customers(session)["X1"].first_name == "José"


@pytest.mark.both_databases
def test_quoted_newlines_and_blank_lines_keep_row_numbers(database: str, tmp_path: Path) -> None:
    content = (
        "Customer #,Address,E-mail\n"
        '\nQ1,"12 Main St\nApt 4",q1@example.com\n'
        "\n"
        "Q2,1 Elm,not-an-email\n"
    )
    summary, found = load(tmp_path, content)
    assert summary.inserted == 1
    assert found == [(5, "error", "Email", "not a valid email address")]
    with session_scope() as session:
        assert customers(session)["Q1"].address == "12 Main St\nApt 4"


@pytest.mark.parametrize(
    ("content", "error", "message"),
    [
        (b"", UnusableFile, "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", UnusableFile, "binary"),
        (b"Favourite colour,Shoe size\nred,9\n", UnusableFile, "look like customers data"),
        (b"First Name,Last Name\nAna,Lopez\n", ValidationError, "Customer ID, Email or Phone"),
    ],
)
def test_unusable_files_change_nothing(
    database: str, tmp_path: Path, content: bytes, error: type, message: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(error, match=message), session_scope() as session:
        imports.prepare_import(
            session=session, actor=SYSTEM, kind=ImportKind.CUSTOMERS, path=path, filename="bad.csv"
        )
    with session_scope() as session:
        assert session.scalar(select(func.count(Import.id))) == 0
        assert session.scalar(select(func.count(Customer.id))) == 0


def test_viewers_cannot_import(database: str, tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text(CUSTOMERS_CSV)
    viewer = Actor(user_id=None, email="v@example.com", role=Role.VIEWER)
    with pytest.raises(PermissionDenied), session_scope() as session:
        imports.prepare_import(
            session=session, actor=viewer, kind=ImportKind.CUSTOMERS, path=path, filename="c.csv"
        )


@pytest.mark.slow
@pytest.mark.both_databases
@pytest.mark.parametrize("clean_in_process", [False, True])
def test_an_import_killed_midway_resumes_without_duplicates(
    database: str, tmp_path: Path, clean_in_process: bool
) -> None:
    rows = "\n".join(
        f"K{i},k{i}@example.com,1990-01-0{1 + i % 9},{'yes' if i % 2 else 'no'}" for i in range(25)
    )
    path = tmp_path / "k.csv"
    path.write_text("Customer #,E-mail,DOB,Email Opt In\n" + rows + "\nK3,k3@example.com,,\n")
    with session_scope() as session:
        import_id = imports.prepare_import(
            session=session, actor=SYSTEM, kind=ImportKind.CUSTOMERS, path=path, filename="k.csv"
        ).id
    with pytest.raises(RuntimeError):
        imports.run_import(
            # 1 start, 2-3 batches of 10 rows, then the worker dies
            unit_of_work=dies_on_opening(4),
            actor=SYSTEM,
            import_id=import_id,
            chunk_rows=10,
            now=NOW,
            clean_in_process=clean_in_process,
        )
    assert not child_processes()  # a cleaning process is stopped with the import
    with session_scope() as session:
        row = session.get(Import, import_id)
        assert (row.status, row.checkpoint_row, row.inserted) == (ImportStatus.FAILED, 21, 20)
        assert row.error == "RuntimeError: worker killed"  # said, not left "running" forever
    summary = imports.run_import(
        unit_of_work=session_scope, actor=SYSTEM, import_id=import_id, chunk_rows=10, now=NOW
    )
    assert (summary.inserted, summary.skipped, summary.total_rows) == (25, 1, 26)
    with session_scope() as session:
        assert session.scalar(select(func.count(Customer.id))) == 25
        assert session.scalar(select(func.count(ConsentRecord.id))) == 12
        duplicate = imports.problems(session=session, import_id=import_id)
        assert [(p.row_number, p.message) for p in duplicate] == [(27, "duplicate of row 5")]


ORDERS_CSV = """Receipt #,Customer #,Date,SKU,Item,Department,Qty,Price
R1,C1,2026-11-20 18:30,W-1,Napa Cab,Wine,2,34.99
R1,C1,2026-11-20 18:30,B-1,Local IPA 6pk,Beer,1,11.99
R2,C4,11/21/2026 5:15 PM,S-1,Bourbon,Liquor,1,32.99
R3,C9,2026-11-22 12:00,W-1,Napa Cab,Wine,1,34.99
R4,C3,2030-01-01,W-1,Napa Cab,Wine,1,34.99
R5,C3,2026-11-23,X-1,Thing,Wine,-1,5
R6,C3,2026-11-23,X-1,Thing,Wine,1,abc
R1,C1,2026-11-20 18:30,B-1,Local IPA 6pk,Beer,1,11.99
"""


@pytest.mark.both_databases
def test_orders_link_to_customers_and_update_their_totals(database: str, tmp_path: Path) -> None:
    load(tmp_path, CUSTOMERS_CSV)
    summary, found = load(tmp_path, ORDERS_CSV, ImportKind.ORDERS, "orders.csv")
    assert (summary.inserted, summary.skipped, summary.failed) == (2, 1, 4), found
    # Order rows are reported with the order import's own field labels.
    assert {(row, field, message) for row, _, field, message in found} >= {
        (
            5,
            "Customer ID",
            "no customer with customer ID 'C9'; import customers first, or allow creating them",
        ),
        (6, "Order date", "is in the future"),
        (7, "Quantity", "not a whole number of at least 1"),
        (8, "Unit price", "not an amount"),
        (9, "", "duplicate of row 3"),
    }
    with session_scope() as session:
        by_id = customers(session)
        ana = by_id["C1"]
        assert (ana.order_count, ana.total_spent_cents) == (1, 2 * 3499 + 1199)
        r1 = session.scalars(select(Order).where(Order.external_id == "R1")).one()
        assert sorted((i.sku, i.category, i.quantity) for i in r1.items) == [
            ("B-1", "beer", 1),
            ("W-1", "wine", 2),
        ]
        r2 = session.scalars(select(Order).where(Order.external_id == "R2")).one()
        assert r2.ordered_at.isoformat() == "2026-11-21T23:15:00+00:00"
        assert r2.items[0].category == "spirits"
        assert session.scalar(select(func.count(Product.id))) == 3

    again, _ = load(tmp_path, ORDERS_CSV, ImportKind.ORDERS, "orders-again.csv")
    assert (again.inserted, again.updated) == (0, 2)
    with session_scope() as session:
        assert session.scalar(select(func.count(Order.id))) == 2
        assert session.scalar(select(func.count(OrderItem.id))) == 3
        assert customers(session)["C1"].order_count == 1


def test_an_order_in_the_hour_that_came_twice_is_loaded_and_said(
    database: str, tmp_path: Path
) -> None:
    """A bar open past 1 a.m. on the night the clocks go back rings up 1:30 twice: the order
    is loaded (read as the first 1:30), with a warning, not refused as unreadable."""
    load(tmp_path, CUSTOMERS_CSV)
    summary, found = load(
        tmp_path,
        "Order,Customer ID,Date,Total\nL1,C1,2025-11-02 01:30,20.00\n",
        ImportKind.ORDERS,
        "late.csv",
    )
    assert (summary.inserted, summary.failed, summary.warnings) == (1, 0, 1)
    assert found == [
        (
            2,
            "warning",
            "Order date",
            "this time came twice that night (the clocks went back): read as the first",
        )
    ]
    with session_scope() as session:
        late = session.scalars(select(Order).where(Order.external_id == "L1")).one()
        assert late.ordered_at.isoformat() == "2025-11-02T06:30:00+00:00"


@pytest.mark.both_databases
def test_unknown_customers_can_be_created(database: str, tmp_path: Path) -> None:
    content = (
        "Order,Email,Date,Total\nA1,new@example.com,2026-11-01,20.00\n"
        "A2,new@example.com,2026-11-02,$5.50\n"
    )
    summary, found = load(tmp_path, content, ImportKind.ORDERS, create_customers=True)
    assert summary.inserted == 2 and not found
    with session_scope() as session:
        made = session.scalars(select(Customer)).one()
        assert (made.email, made.order_count, made.total_spent_cents) == (
            "new@example.com",
            2,
            2550,
        )
        assert not made.email_opt_in, "an order is not consent"


@pytest.mark.both_databases
@pytest.mark.parametrize("customers_first", [2, 9], ids=["ids-read-at-once", "ids-asked"])
def test_orders_find_customers_made_since_their_file_began(
    database: str, tmp_path: Path, customers_first: int
) -> None:
    """A file with at least as many rows as the store has customers reads every customer ID
    at its first batch; a customer the file itself creates in one batch (or anyone adds
    meanwhile) is still found by the next batch's orders, not made twice. A smaller file
    asks for its IDs batch by batch, to the same end."""
    known = "".join(f"C{i},c{i}@example.com\n" for i in range(1, customers_first + 1))
    load(tmp_path, "Customer #,E-mail\n" + known)
    rows = ["R1,N1,2026-11-01,10.00", "R2,C1,2026-11-02,5.00", "R3,N1,2026-11-03,7.00"]
    content = "Order,Customer ID,Date,Total\n" + "\n".join([*rows, "R4,C1,2026-11-04,1.00"])
    summary, found = load(
        tmp_path, content + "\n", ImportKind.ORDERS, chunk_rows=2, create_customers=True
    )
    assert (summary.inserted, summary.failed) == (4, 0) and not found
    with session_scope() as session:
        totals = session.execute(
            select(Customer.external_id, Customer.order_count, Customer.total_spent_cents)
            .where(Customer.order_count > 0)
            .order_by(Customer.external_id)
        ).all()
    assert totals == [("C1", 2, 600), ("N1", 2, 1700)]


@pytest.mark.both_databases
def test_an_order_split_across_batches_keeps_all_its_lines(database: str, tmp_path: Path) -> None:
    load(tmp_path, "Customer #,E-mail\nC1,c1@example.com\n")
    lines = "\n".join(f"R1,C1,2026-11-20,SKU{i},Wine,1,10.00" for i in range(5))
    path = tmp_path / "split.csv"
    path.write_text("Receipt #,Customer #,Date,SKU,Department,Qty,Price\n" + lines + "\n")
    with session_scope() as session:
        import_id = imports.prepare_import(
            session=session, actor=SYSTEM, kind=ImportKind.ORDERS, path=path, filename="s.csv"
        ).id
    summary = imports.run_import(
        unit_of_work=session_scope, actor=SYSTEM, import_id=import_id, chunk_rows=2, now=NOW
    )
    assert summary.inserted == 1
    with session_scope() as session:
        order = session.scalars(select(Order)).one()
        assert (order.total_cents, len(order.items)) == (5000, 5)


@pytest.mark.slow
def test_a_large_file_streams_in_batches(database: str, tmp_path: Path) -> None:
    """A 13 MB export (wide rows, long notes; three batches of it) loads whole."""
    note = "x" * 190
    rows = [f"L{i},l{i}@example.com,Street {i},{note}" for i in range(60_000)]
    content = "Customer #,E-mail,Address,Notes\n" + "\n".join(rows) + "\n"
    assert len(content) > 13_000_000
    summary, found = load(tmp_path, content, name="big.csv", chunk_rows=25_000)
    assert (summary.inserted, summary.failed, found) == (60_000, 0, [])
    with session_scope() as session:
        assert session.scalar(select(func.count(Customer.id))) == 60_000


@pytest.mark.both_databases
def test_uploads_are_private_and_deleted_once_loaded(database: str, tmp_path: Path) -> None:
    """Uploads hold customers' personal data: owner-only, and gone once their rows are in."""
    stored = imports.store_upload(CUSTOMERS_CSV.encode(), "../../POS export.csv")
    assert stored.parent.parent == imports.upload_folder()
    assert stored.name == "POS_export.csv"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert stat.S_IMODE(stored.parent.stat().st_mode) == 0o700
    with session_scope() as session:
        import_id = imports.prepare_import(
            session=session,
            actor=SYSTEM,
            kind=ImportKind.CUSTOMERS,
            path=stored,
            filename=stored.name,
        ).id
    imports.run_import(unit_of_work=session_scope, actor=SYSTEM, import_id=import_id, now=NOW)
    assert not stored.parent.exists()

    own = tmp_path / "mine.csv"  # a file imported from the command line stays the user's
    load(tmp_path, CUSTOMERS_CSV, name=own.name)
    assert own.exists()


@pytest.mark.both_databases
def test_old_uploads_are_purged_unless_an_import_still_needs_them(
    database: str, tmp_path: Path
) -> None:
    waiting = imports.store_upload(b"Email\nana@example.com\n", "waiting.csv", tmp_path)
    abandoned = imports.store_upload(b"Email\nbob@example.com\n", "abandoned.csv", tmp_path)
    fresh = imports.store_upload(b"Email\ncy@example.com\n", "fresh.csv", tmp_path)
    with session_scope() as session:
        imports.prepare_import(
            session=session,
            actor=SYSTEM,
            kind=ImportKind.CUSTOMERS,
            path=waiting,
            filename=waiting.name,
        )
    week_ago = (NOW - imports.UPLOAD_RETENTION - timedelta(hours=1)).timestamp()
    for old in (waiting.parent, abandoned.parent):
        os.utime(old, (week_ago, week_ago))
    fresh_time = NOW.timestamp()
    os.utime(fresh.parent, (fresh_time, fresh_time))
    with session_scope() as session:
        assert imports.purge_uploads(session=session, now=NOW, folder=tmp_path) == 1
    assert waiting.exists() and fresh.exists() and not abandoned.parent.exists()


def child_processes() -> list[str]:
    """The pids of this process's children (Linux)."""
    pid = os.getpid()
    return Path(f"/proc/{pid}/task/{pid}/children").read_text().split()


@pytest.mark.slow
@pytest.mark.parametrize("clean_in_process", [False, True])
def test_a_file_unreadable_past_its_start_fails_saying_why_and_keeps_the_rows_before(
    database: str, tmp_path: Path, clean_in_process: bool
) -> None:
    """The file is read as it is loaded: a bad byte far in fails the import with the reader's
    reason, whichever process read it, and the batches before it stay loaded."""
    good = "".join(f"R{i:05d},r{i}@example.com\n" for i in range(12_000))  # past the sample
    path = tmp_path / "late.csv"
    path.write_bytes(b"Customer #,E-mail\n" + good.encode() + b"R99999,caf\xe9@example.com\n")
    with session_scope() as session:
        import_id = imports.prepare_import(
            session=session, actor=SYSTEM, kind=ImportKind.CUSTOMERS, path=path, filename="l.csv"
        ).id
    with pytest.raises(UnusableFile, match="not valid utf-8"):
        imports.run_import(
            unit_of_work=session_scope,
            actor=SYSTEM,
            import_id=import_id,
            chunk_rows=1000,
            now=NOW,
            clean_in_process=clean_in_process,
        )
    with session_scope() as session:
        row = session.get(Import, import_id)
        assert row.status == ImportStatus.FAILED
        assert row.error.startswith("Part of the file is not valid utf-8")
        assert session.scalar(select(func.count(Customer.id))) == row.inserted > 0


HOUSEHOLD_ROWS = [
    "Ann,ann@example.com,312-555-0150",
    "Bob,bob@example.com,312-555-0150",  # Ann's phone, another email: Ann's household
    "Cat,cat@example.com,(312) 555-0150",  # the same phone again: a third person
    "Ann,,312-555-0150",  # no email: the phone finds Ann, the oldest with it
    "Dan,dan@example.com,",
    "Dan,,773-555-0190",  # no email, a new phone: someone new
    "Eve,eve@example.com,773-555-0190",  # that phone, whose holder had no email: the same one
] * 2  # and every row again (duplicates of the first time)


def people(session: Session) -> list[tuple[str | None, str | None, str | None]]:
    rows = session.execute(
        select(Customer.first_name, Customer.email, Customer.phone).order_by(Customer.email)
    )
    return sorted((tuple(r) for r in rows), key=lambda r: tuple(v or "" for v in r))


@pytest.mark.slow
@pytest.mark.both_databases
@pytest.mark.parametrize("chunk_rows", [1, 7, 50_000])
def test_one_identity_rule_whatever_the_batch_size(
    database: str, tmp_path: Path, chunk_rows: int
) -> None:
    """A phone shared with someone else's email is a household, never an overwrite, and the
    result is the same in batches of one row, of seven, or all at once."""
    content = "First Name,E-mail,Cell\n" + "\n".join(HOUSEHOLD_ROWS) + "\n"
    summary, found = load(tmp_path, content, chunk_rows=chunk_rows)
    with session_scope() as session:
        got = people(session)
        ann = session.scalar(select(Customer.id).where(Customer.email == "ann@example.com"))
    assert got == [
        ("Ann", "ann@example.com", "+13125550150"),
        ("Bob", "bob@example.com", "+13125550150"),
        ("Cat", "cat@example.com", "+13125550150"),
        ("Dan", "dan@example.com", None),
        ("Eve", "eve@example.com", "+17735550190"),
    ]
    assert (summary.inserted, summary.updated) == (5, 2)  # Dan-without-email became Eve
    assert summary.failed == 0
    shares = sorted(message for _, severity, _, message in found if severity == "warning")
    assert shares[:2] == [f"a new customer: shares a phone with #{ann}"] * 2


@pytest.mark.both_databases
def test_the_same_rows_in_two_files_make_the_same_customers(database: str, tmp_path: Path) -> None:
    header = "First Name,E-mail,Cell\n"
    half = len(HOUSEHOLD_ROWS) // 2
    load(tmp_path, header + "\n".join(HOUSEHOLD_ROWS[:3]) + "\n", name="one.csv")
    load(tmp_path, header + "\n".join(HOUSEHOLD_ROWS[3:half]) + "\n", name="two.csv")
    with session_scope() as session:
        got = people(session)
    assert [name for name, _, _ in got] == ["Ann", "Bob", "Cat", "Dan", "Eve"]


@pytest.mark.both_databases
def test_our_own_export_imports_back_without_a_change_in_who_is_who(
    database: str, tmp_path: Path
) -> None:
    """Export, re-import untouched: nobody new, nobody failed; our id column matches by our id
    and a POS's bare ID column keeps meaning the POS's customer ID."""
    from core.customers.exports import export_customers

    load(tmp_path, CUSTOMERS_CSV)
    load(tmp_path, "First Name,E-mail,Cell\n" + "\n".join(HOUSEHOLD_ROWS) + "\n", name="h.csv")
    with session_scope() as session:
        before = people(session)
        count = session.scalar(select(func.count(Customer.id)))
    exported = tmp_path / "export.csv"
    with exported.open("w", newline="") as out:
        export_customers(unit_of_work=session_scope, actor=SYSTEM, out=out, today=NOW.date())
    summary, found = load(tmp_path, exported.read_bytes(), name="export.csv")
    assert (summary.inserted, summary.failed) == (0, 0), found
    assert summary.updated == count
    with session_scope() as session:
        assert people(session) == before
    from core.imports.fields import suggest_mapping
    from core.imports.files import inspect_file

    mapping = suggest_mapping(ImportKind.CUSTOMERS, inspect_file(exported).header)
    assert mapping["lastcall_id"] == "lastcall_id" and mapping["external_id"] == "external_id"
    assert suggest_mapping(ImportKind.CUSTOMERS, ["ID", "Email"])["external_id"] == "ID"


@pytest.mark.slow
@pytest.mark.both_databases
def test_customer_totals_are_right_after_an_orders_import_resumes(
    database: str, tmp_path: Path
) -> None:
    """Totals are brought up to date once, at the end; a run that resumes after a checkpoint
    cannot know whom the batches before it touched, and must still get everyone right."""
    load(tmp_path, "Customer #,E-mail\n" + "".join(f"C{i},c{i}@example.com\n" for i in range(6)))
    lines = "".join(f"R{n},C{n % 6},2026-11-{1 + n % 20:02d},{10 + n}\n" for n in range(30))
    path = tmp_path / "orders.csv"
    path.write_text("Receipt #,Customer #,Date,Total\n" + lines)
    with session_scope() as session:
        import_id = imports.prepare_import(
            session=session, actor=SYSTEM, kind=ImportKind.ORDERS, path=path, filename=path.name
        ).id
    with pytest.raises(RuntimeError):
        imports.run_import(
            unit_of_work=dies_on_opening(4),  # after two batches
            actor=SYSTEM,
            import_id=import_id,
            chunk_rows=10,
            now=NOW,
        )
    imports.run_import(
        unit_of_work=session_scope, actor=SYSTEM, import_id=import_id, chunk_rows=10, now=NOW
    )
    with session_scope() as session:
        totals = {
            c.external_id: (c.order_count, c.total_spent_cents)
            for c in session.scalars(select(Customer))
        }
    expected = {
        f"C{i}": (5, sum((10 + n) * 100 for n in range(30) if n % 6 == i)) for i in range(6)
    }
    assert totals == expected


@pytest.mark.both_databases
def test_the_sample_files_import_cleanly(database: str, tmp_path: Path) -> None:
    for kind, added in ((ImportKind.CUSTOMERS, 3), (ImportKind.ORDERS, 2)):
        name, content = imports.sample_file(kind)
        summary, found = load(tmp_path, content, kind, name)
        assert (summary.inserted, summary.failed, summary.warnings) == (added, 0, 0), found
    with session_scope() as session:
        ana = customers(session)["C-1001"]
        assert (ana.order_count, ana.total_spent_cents) == (1, 2 * 3499 + 1199)


@pytest.mark.both_databases
def test_problem_rows_name_whom_they_are_about(database: str, tmp_path: Path) -> None:
    load(tmp_path, CUSTOMERS_CSV)
    with session_scope() as session:
        [import_id] = session.scalars(select(Import.id)).all()
        about = {
            p.row_number: p.who for p in imports.problems(session=session, import_id=import_id)
        }
        report = imports.problems_csv(session=session, import_id=import_id)
    assert about[3] == "Bob Stone" and about[8] == "Fay Kim"
    assert report.splitlines()[0] == "row,about,severity,field,value,reason"
    load(tmp_path, ORDERS_CSV, ImportKind.ORDERS, "orders.csv")
    with session_scope() as session:
        latest = session.scalars(select(Import.id).where(Import.kind == ImportKind.ORDERS)).one()
        about = {p.row_number: p.who for p in imports.problems(session=session, import_id=latest)}
    assert about[5] == "order R3 · C9"
