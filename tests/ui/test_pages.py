"""Each page through the frame, signed in, on real data."""

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from sqlalchemy import select

from core import attribution, auth, demo
from core.analytics import weekly
from core.auth.users import password_matches
from core.config import get_settings
from core.db import session_scope
from core.models import User
from core.permissions import SYSTEM, Role
from core.store_profile import get_store_profile
from jobs import queue, tasks
from tests.moments import NOW, TODAY
from tests.ui.conftest import frame, make_user, see_job_through, sign_in, texts
from ui.navigation import PAGES


def signed_in(role: Role = Role.ADMIN):
    return sign_in(frame(), make_user(role))


def test_every_page_renders_for_an_admin() -> None:
    at = signed_in()
    for spec in PAGES:
        at.switch_page(spec.path).run()
        assert not at.exception, spec.path
        assert at.title, spec.path


def test_home_shows_the_store_numbers_and_chart() -> None:
    demo.load_demo(unit_of_work=session_scope, actor=SYSTEM, customers=300, seed=2, now=NOW)
    at = signed_in(Role.VIEWER)
    labels = [m.label for m in at.metric]
    assert "Revenue, last 30 days" in labels and "Orders, last 30 days" in labels
    customers = next(m for m in at.metric if m.label == "Customers")
    assert customers.value == "300"
    revenue = next(m for m in at.metric if m.label == "Revenue, last 30 days")
    assert revenue.value.startswith("$") and revenue.value != "$0"
    assert at.get("plotly_chart"), "weekly revenue chart"
    monday = TODAY - timedelta(days=TODAY.weekday())  # the demo's orders run up to now
    assert f"The last bar is this week so far (since Monday, {monday:%b %d})." in texts(at)


@pytest.mark.slow
def test_loading_the_demo_from_the_home_page(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEMO_CUSTOMERS", "300")  # the full-size demo loads in the browser test
    get_settings.cache_clear()
    at = signed_in(Role.MARKETER)
    assert "Let's get your store going" in texts(at)
    next(b for b in at.button if b.label == "Load demo store").click().run()
    see_job_through(at, "demo_job", timeout=120)
    assert "The demo store is ready." in texts(at)
    assert next(m for m in at.metric if m.label == "Customers").value == "300"


def test_viewers_are_not_offered_data_loading() -> None:
    at = signed_in(Role.VIEWER)
    assert "Load demo store" not in [b.label for b in at.button]
    assert "Ask a marketer" in texts(at)


def test_users_page_adds_and_changes_users() -> None:
    at = signed_in(Role.ADMIN)
    at.switch_page("pages/users.py").run()
    fields = {t.label: t for t in at.text_input}
    fields["Name"].input("Mona Marketer")
    fields["Email"].input("mona@example.com")
    next(b for b in at.button if b.label == "Add user").click().run()
    assert "temporary password" in texts(at)
    [password] = [c.value for c in at.code]  # a code block: a copy button, a clear font
    assert re.fullmatch(r"([a-zA-Z0-9]{4}-){3}[a-zA-Z0-9]{4}", password)
    assert not set(password) & set("lI1O0"), "no characters that read alike"
    with session_scope() as session:
        mona = session.scalars(select(User).where(User.email == "mona@example.com")).one()
        assert mona.role == Role.MARKETER and mona.must_change_password
        assert password_matches(password, mona.password_hash)
    table = at.dataframe[0].value.set_index("Email")
    assert table.loc["mona@example.com", "Last sign-in"] == "Never"
    assert table.loc["mona@example.com", "Locked"] == "No"
    assert table.loc["admin@example.com", "Last sign-in"] not in ("Never", "None", "—")

    user_picker = next(s for s in at.selectbox if s.label == "User")
    user_picker.select(next(o for o in user_picker.options if "mona@" in o)).run()
    at.selectbox(key=f"role_of_{mona.id}").select(Role.VIEWER)
    next(b for b in at.button if b.label == "Save changes").click().run()
    assert "Saved." in texts(at)
    with session_scope() as session:
        assert auth.get_active_user(session=session, email="mona@example.com").role == Role.VIEWER


def test_users_page_explains_refusals() -> None:
    at = signed_in(Role.ADMIN)
    at.switch_page("pages/users.py").run()
    next(b for b in at.button if b.label == "Add user").click().run()
    assert "not a valid email address" in texts(at)


def test_store_profile_saves_and_validates() -> None:
    at = signed_in(Role.ADMIN)
    at.switch_page("pages/store.py").run()
    assert "Add the full postal address" in texts(at)
    fields = {t.label: t for t in at.text_input}
    fields["Store name"].input("Corner Cellar")
    fields["Street address"].input("1200 N Milwaukee Ave")
    fields["City"].input("Chicago")
    fields["State"].input("IL")
    fields["ZIP"].input("60622")
    next(b for b in at.button if b.label == "Save").click().run()
    assert "Saved." in texts(at)
    assert "Corner Cellar, 1200 N Milwaukee Ave, Chicago, IL 60622" in texts(at)
    with session_scope() as session:
        assert get_store_profile(session=session).name == "Corner Cellar"
    {t.label: t for t in at.text_input}["State"].input("I1")  # the form redrew after saving
    next(b for b in at.button if b.label == "Save").click().run()
    assert "two-letter" in texts(at)


def test_store_page_chooses_who_gets_the_weekly_report() -> None:
    at = signed_in(Role.ADMIN)
    at.switch_page("pages/store.py").run()
    recipients = next(t for t in at.text_area if t.label == "Send to")
    recipients.input("boss@example.com\nthe owner")
    next(b for b in at.button if b.label == "Save weekly report").click().run()
    assert "Recipient 2 ('the owner') is not an email address." in texts(at)
    with session_scope() as session:
        assert weekly.get_weekly_settings(session=session).recipients == []
    next(t for t in at.text_area if t.label == "Send to").input("boss@example.com\n")
    next(b for b in at.button if b.label == "Save weekly report").click().run()
    assert "Weekly report saved." in texts(at)
    with session_scope() as session:
        assert weekly.get_weekly_settings(session=session).recipients == ["boss@example.com"]


def test_store_page_sets_how_revenue_is_attributed() -> None:
    at = signed_in(Role.ADMIN)
    at.switch_page("pages/store.py").run()
    numbers = {n.label: n for n in at.number_input}
    numbers["Days after a click"].set_value(7)
    numbers["Days after an open (email) or delivery (text)"].set_value(2)
    next(s for s in at.selectbox if s.label == "Model").set_value(attribution.Model.LINEAR)
    next(b for b in at.button if b.label == "Save attribution").click().run()
    assert "Attribution saved" in texts(at)
    with session_scope() as session:
        assert attribution.get_attribution_settings(session=session) == (
            attribution.AttributionSettings(
                click_window_days=7, view_window_days=2, model=attribution.Model.LINEAR
            )
        )


def test_jobs_page_lists_background_work() -> None:
    at = signed_in(Role.VIEWER)
    at.switch_page("pages/jobs.py").run()
    assert "No background jobs yet." in texts(at)
    admin = make_user(Role.ADMIN, "boss@example.com")
    with session_scope() as session:
        owner = auth.get_active_user(session=session, email=admin).id
    job = queue.wait_for(queue.enqueue(tasks.load_demo, created_by=owner, customers=20))
    at.run()
    table = at.dataframe[0].value
    assert list(table["Job"]) == ["Loading the demo store"]
    assert list(table["Status"]) == ["Succeeded"] and list(table["Now"]) == [""]
    # In the store's time (Chicago), not UTC.
    assert job.finished_at is not None
    chicago = job.finished_at.astimezone(ZoneInfo("America/Chicago")).replace(tzinfo=None)
    assert pd.Timestamp(table["Finished"][0]).to_pydatetime() == chicago
    assert "times are the store's (America/Chicago)" in texts(at)


def test_account_page_changes_the_password() -> None:
    at = signed_in(Role.VIEWER)
    at.switch_page("pages/account.py").run()
    fields = {t.label: t for t in at.text_input}
    fields["Current password"].input("wrong password")
    fields["New password"].input("brand new password")
    fields["Repeat the new password"].input("brand new password")
    next(b for b in at.button if b.label == "Change password").click().run()
    assert "current password is wrong" in texts(at)
