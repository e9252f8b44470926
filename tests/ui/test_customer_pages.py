"""The customer list, a profile and the import page, through the frame, on real data."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core import customers
from core.config import get_settings
from core.db import session_scope
from core.models import Customer
from core.permissions import SYSTEM, Role
from tests.crashes import dies_on_opening
from tests.moments import NOW
from tests.ui.conftest import frame, make_user, see_job_through, sign_in, texts


def signed_in(role: Role = Role.MARKETER):
    return sign_in(frame(), make_user(role))


def seed() -> dict[str, int]:
    with session_scope() as session:
        made = {
            name: customers.create_customer(
                session=session, actor=SYSTEM, first_name=name, last_name=last, email=email, now=NOW
            ).id
            for name, last, email in (
                ("Ana", "Lopez", "ana@example.com"),
                ("Bob", "Stone", "bob@example.com"),
                ("Cy", "Lopez", "cy@example.com"),
            )
        }
    return made


def test_empty_list_points_to_the_import() -> None:
    at = signed_in()
    at.switch_page("pages/customers.py").run()
    assert "No customers yet" in texts(at)


def test_search_select_and_open_a_profile() -> None:
    ids = seed()
    at = signed_in(Role.MARKETER)
    at.switch_page("pages/customers.py").run()
    assert not at.exception
    assert len(at.dataframe[0].value) == 3
    at.text_input(key="customer_search").input("lop").run()
    table = at.dataframe[0].value
    assert sorted(table["Name"]) == ["Ana Lopez", "Cy Lopez"]
    assert "2 customers found" in texts(at)
    row = list(table["Name"]).index("Cy Lopez")
    at.session_state["customer_table"] = {
        "selection": {"rows": [], "columns": [], "cells": [(row, "Email")]}
    }
    at.run()
    assert at.title[0].value == "Customers", "a click on another cell does not leave the list"
    at.session_state["customer_table"] = {
        "selection": {"rows": [], "columns": [], "cells": [(row, "Name")]}
    }
    at.run()
    assert at.title[0].value == "Cy Lopez", "a click on a name opens that customer's profile"
    assert at.query_params["id"] == str(ids["Cy"])

    profile = frame()
    profile = sign_in(profile, make_user(Role.VIEWER))
    profile.query_params["id"] = str(ids["Ana"])
    profile.switch_page("pages/customer.py").run()
    assert not profile.exception
    assert "Ana Lopez" in texts(profile)
    assert [m.label for m in profile.metric] == ["Orders", "Spent", "Average order", "Last order"]
    assert not profile.text_input, "viewers see details but no edit form"


def test_unknown_and_deleted_customers_say_so() -> None:
    ids = seed()
    at = signed_in()
    at.query_params["id"] = "999"
    at.switch_page("pages/customer.py").run()
    assert "Customer not found" in texts(at) and "no customer #999" in texts(at)
    with session_scope() as session:
        customers.soft_delete(session=session, actor=SYSTEM, customer_ids=[ids["Bob"]], now=NOW)
    at.query_params["id"] = str(ids["Bob"])
    at.run()
    assert "was deleted" in texts(at)
    next(b for b in at.button if b.label == "Restore this customer").click().run()
    assert "Customer restored." in texts(at)


def button(at, label: str):
    return next(b for b in at.button if b.label == label)


def test_delete_a_customer_after_saying_yes() -> None:
    ids = seed()
    at = signed_in()
    at.query_params["id"] = str(ids["Ana"])
    at.switch_page("pages/customer.py").run()
    button(at, "Delete customer").click().run()
    assert "Delete this customer?" in texts(at)
    with session_scope(read_only=True) as session:
        assert session.get(Customer, ids["Ana"]).deleted_at is None, "nothing before the yes"
    button(at, "Yes, delete").click().run()
    assert not at.exception
    assert "Customer deleted." in texts(at)
    with session_scope(read_only=True) as session:
        assert session.get(Customer, ids["Ana"]).deleted_at is not None


def test_bulk_delete_asks_and_cancel_keeps_everyone() -> None:
    ids = seed()
    at = signed_in()
    at.switch_page("pages/customers.py").run()
    at.session_state["customer_table"] = {"selection": {"rows": [0, 1], "columns": [], "cells": []}}
    at.run()
    button(at, "Delete selected").click().run()
    assert "Delete 2 customers?" in texts(at)
    button(at, "Cancel").click().run()
    assert "Delete 2 customers?" not in texts(at)
    with session_scope(read_only=True) as session:
        assert not session.scalars(select(Customer).where(Customer.deleted_at.is_not(None))).all()
    button(at, "Delete selected").click().run()
    button(at, "Yes, delete").click().run()
    assert "Deleted 2 customers." in texts(at)
    with session_scope(read_only=True) as session:
        gone = session.scalars(select(Customer.id).where(Customer.deleted_at.is_not(None))).all()
    assert len(gone) == 2 and set(gone) <= set(ids.values())


def test_edit_a_profile_with_validation() -> None:
    ids = seed()
    at = signed_in()
    at.query_params["id"] = str(ids["Cy"])
    at.switch_page("pages/customer.py").run()
    fields = {t.label: t for t in at.text_input}
    fields["Phone"].input("12345")
    next(b for b in at.button if b.label == "Save changes").click().run()
    assert "not a valid phone number" in texts(at)
    fields = {t.label: t for t in at.text_input}
    fields["Phone"].input("(312) 555-0177")
    fields["City"].input("Chicago")
    next(b for b in at.button if b.label == "Save changes").click().run()
    assert "Saved." in texts(at)
    with session_scope() as session:
        cy = session.get(Customer, ids["Cy"])
        assert (cy.phone, cy.city) == ("+13125550177", "Chicago")


def test_import_page_uploads_maps_and_loads() -> None:
    at = signed_in()
    at.switch_page("pages/imports.py").run()
    assert not at.exception
    csv = b"Customer #,First Name,E-mail\nP1,Ana,ana@example.com\nP2,Bob,bad-email\n"
    at.file_uploader[0].set_value(("pos.csv", csv, "text/csv")).run()
    assert not at.exception
    assert at.dataframe[0].value.shape == (2, 3), "preview of the first rows"
    assert at.selectbox(key="map_customers_email").value == "E-mail"
    at.selectbox(key="map_customers_first_name").set_value("— not in this file —").run()
    assert "Not imported (1 column): First Name" in texts(at)
    at.selectbox(key="map_customers_first_name").set_value("First Name").run()
    assert "not a valid email address" in str(at.dataframe[1].value.iloc[0, 0])
    next(b for b in at.button if b.label == "Start import").click().run()
    see_job_through(at, "import_job")
    shown = {m.label: m.value for m in at.metric}
    assert (shown["Added"], shown["Failed"]) == ("1", "1")
    with session_scope() as session:
        assert session.scalar(select(func.count(Customer.id))) == 1


def test_the_uploader_offers_the_size_the_import_accepts(monkeypatch: pytest.MonkeyPatch) -> None:
    """IMPORT_MAX_UPLOAD_MB, not Streamlit's own 200 MB, is the limit the page shows."""
    monkeypatch.setenv("IMPORT_MAX_UPLOAD_MB", "25")
    get_settings.cache_clear()
    at = signed_in()
    at.switch_page("pages/imports.py").run()
    assert at.file_uploader[0].proto.max_upload_size_mb == 25


def test_import_page_explains_an_unusable_file() -> None:
    at = signed_in()
    at.switch_page("pages/imports.py").run()
    at.file_uploader[0].set_value(("x.csv", b"\x00\x01binary", "text/csv")).run()
    assert "cannot be imported" in texts(at) and "binary" in texts(at)


def test_a_name_made_of_markdown_is_shown_as_typed() -> None:
    """A name from a POS file is text: no link to click, no tracking image to load."""
    with session_scope() as session:
        customer_id = customers.create_customer(
            session=session,
            actor=SYSTEM,
            first_name="[Pay here](https://evil.example)",
            last_name="![](https://evil.example/pixel)",
            email="mallory@example.com",
            now=NOW,
        ).id
    at = signed_in(Role.VIEWER)
    at.query_params["id"] = str(customer_id)
    at.switch_page("pages/customer.py").run()
    assert not at.exception
    title = at.title[0].value
    assert title.startswith(r"\[Pay here\]\(https\://evil\.example\) \!\[\]")
    assert "](https" not in title.replace("\\", "\u241b")  # every bracket and colon escaped


def test_only_roles_that_may_export_see_the_export() -> None:
    seed()
    for role, shown in ((Role.VIEWER, 0), (Role.MARKETER, 1)):
        at = signed_in(role)
        at.switch_page("pages/customers.py").run()
        assert not at.exception
        assert len(at.get("download_button")) == shown, role


def test_a_second_save_from_an_older_form_is_refused_on_the_page() -> None:
    ids = seed()
    first = signed_in()
    second = sign_in(frame(), make_user(Role.MARKETER, "second@example.com"))
    for at in (first, second):
        at.query_params["id"] = str(ids["Cy"])
        at.switch_page("pages/customer.py").run()
    next(t for t in first.text_input if t.label == "City").input("Evanston")
    next(b for b in first.button if b.label == "Save changes").click().run()
    assert "Saved." in texts(first)
    next(t for t in second.text_input if t.label == "City").input("Oak Park")
    next(b for b in second.button if b.label == "Save changes").click().run()
    assert "after you opened it" in texts(second)
    with session_scope() as session:
        assert session.get(Customer, ids["Cy"]).city == "Evanston"
    second.run()  # the next run shows the saved data and accepts an edit made from it
    next(t for t in second.text_input if t.label == "City").input("Oak Park")
    next(b for b in second.button if b.label == "Save changes").click().run()
    assert "Saved." in texts(second)


def test_a_stopped_import_resumes_from_the_imports_page() -> None:
    from core import imports
    from core.models import ImportKind

    rows = "".join(f"R{i},r{i}@example.com\n" for i in range(30))
    stored = imports.store_upload(f"Customer #,E-mail\n{rows}".encode(), "pos.csv")
    with session_scope() as session:
        import_id = imports.prepare_import(
            session=session,
            actor=SYSTEM,
            kind=ImportKind.CUSTOMERS,
            path=stored,
            filename="pos.csv",
        ).id
    with pytest.raises(ConnectionError):
        imports.run_import(
            unit_of_work=dies_on_opening(3, ConnectionError("database connection lost")),
            actor=SYSTEM,
            import_id=import_id,
            now=NOW,
            chunk_rows=10,
        )
    at = signed_in()
    at.switch_page("pages/imports.py").run()
    assert "stopped at row 11" in texts(at) and "database connection lost" in texts(at)
    next(b for b in at.button if b.label == "Resume").click().run()
    see_job_through(at, "import_job")
    with session_scope() as session:
        assert session.scalar(select(func.count(Customer.id))) == 30
    assert "Resume" not in [b.label for b in at.button]


def test_a_one_visit_customer_is_not_called_certain_to_come_back() -> None:
    ids = seed()
    with session_scope() as session:
        once, twice = session.get(Customer, ids["Ana"]), session.get(Customer, ids["Bob"])
        for customer, gap, orders in ((once, None, 1), (twice, 21.0, 3)):
            customer.predicted_clv_cents, customer.days_between_orders = 12_000, gap
            customer.order_count, customer.scored_at = orders, NOW
            customer.last_order_at = NOW - timedelta(days=40)
        once.p_alive, twice.p_alive = 1.0, 0.64  # BG/NBD's 1.0 for a single purchase day
    shown = {}
    at = signed_in(Role.VIEWER)
    for name in ("Ana", "Bob", "Cy"):
        at.query_params["id"] = str(ids[name])
        at.switch_page("pages/customer.py").run()
        shown[name] = at.caption[0].value
    assert "one purchase so far, 40 days ago" in shown["Ana"] and "100%" not in shown["Ana"]
    assert "Predicted to spend $120" in shown["Bob"]
    assert "64% likely to still be a customer" in shown["Bob"]
    assert shown["Cy"] == "No purchase yet: nothing to predict from."
    assert "$0" not in shown["Cy"]


def test_an_admin_erases_a_customer_at_their_request() -> None:
    ids = seed()
    for role, downloads, erase in ((Role.VIEWER, 0, False), (Role.MARKETER, 2, False)):
        at = signed_in(role)
        at.query_params["id"] = str(ids["Ana"])
        at.switch_page("pages/customer.py").run()
        assert len(at.get("download_button")) == downloads, role
        assert any(b.label == "Erase this customer" for b in at.button) is erase, role

    at = signed_in(Role.ADMIN)
    at.query_params["id"] = str(ids["Ana"])
    at.switch_page("pages/customer.py").run()
    button(at, "Erase this customer").click().run()
    assert "cannot be undone" in texts(at)
    with session_scope(read_only=True) as session:
        assert session.get_one(Customer, ids["Ana"]).email == "ana@example.com", "not before yes"
    button(at, "Yes, erase").click().run()
    assert not at.exception
    assert f"Customer #{ids['Ana']} erased" in texts(at)

    at.query_params["id"] = str(ids["Ana"])
    at.switch_page("pages/customer.py").run()
    assert "erased at their request" in texts(at)
    assert not any(b.label == "Restore this customer" for b in at.button)
    with session_scope(read_only=True) as session:
        assert session.get_one(Customer, ids["Ana"]).email is None


def test_the_list_opens_on_the_most_recent_buyers_and_never_buyers_last() -> None:
    ids = seed()
    with session_scope() as session:
        for name, days_ago in (("Ana", 30), ("Cy", 2)):
            session.get_one(Customer, ids[name]).last_order_at = NOW - timedelta(days=days_ago)
    at = signed_in()
    at.switch_page("pages/customers.py").run()
    assert list(at.dataframe[0].value["Name"]) == ["Cy Lopez", "Ana Lopez", "Bob Stone"]
