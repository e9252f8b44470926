"""Only a signed-in browser sees a page: a first visit by address, and a visit after signing out."""

from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import (
    ADMIN_EMAIL,
    PASSWORD,
    appears,
    forgotten,
    new_store,
    session_cookie,
    signed_in,
)
from tests.server import running_app

pytestmark = pytest.mark.e2e


def shows_only_the_sign_in_page(page: Any) -> None:
    appears(page.get_by_role("button", name="Sign in"))
    for text in ("Please sign in.", "Add a user", "Customers", "Sign out", "Olive"):
        assert page.get_by_text(text, exact=True).count() == 0, text


def test_a_first_visit_to_a_page_url_still_asks_to_sign_in(browser: Any, tmp_path: Path) -> None:
    """On a fresh server the first request names a page: the frame must still run first."""
    with new_store(tmp_path / "fresh.db") as url, running_app({"DATABASE_URL": url}) as base:
        page = browser.new_page()
        page.goto(f"{base}/users")
        shows_only_the_sign_in_page(page)
        page.close()


def test_after_signing_out_no_address_opens_a_page(browser: Any, tmp_path: Path) -> None:
    from core import customers
    from core.db import session_scope, utc_now
    from core.permissions import SYSTEM

    with new_store(tmp_path / "out.db") as url, session_scope() as session:
        customer = customers.create_customer(
            session=session,
            actor=SYSTEM,
            first_name="Ann",
            email="ann@example.com",
            now=utc_now(),
        )
        customer_id = customer.id
    with running_app({"DATABASE_URL": url}) as base:
        page = signed_in(browser, base)
        cookie = session_cookie(page)
        assert cookie is not None and cookie["httpOnly"] and cookie["sameSite"] == "Lax"
        page.reload()  # the cookie brings the browser back in
        appears(page.get_by_text("Revenue, last 30 days"))
        page.get_by_role("button", name="Sign out").click()
        appears(page.get_by_role("button", name="Sign in"))
        forgotten(page)
        for address in ("customers", f"customer?id={customer_id}", "users", "campaign?id=1"):
            page.goto(f"{base}/{address}")
            shows_only_the_sign_in_page(page)
        assert session_cookie(page) is None
        # Signing in where the address points opens that page.
        page.goto(f"{base}/customer?id={customer_id}")
        page.get_by_label("Email").fill(ADMIN_EMAIL)
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        appears(page.get_by_role("heading", name="Ann"))
        page.close()
