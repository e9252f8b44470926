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


def test_only_a_signed_in_browser_opens_a_page(browser: Any, tmp_path: Path) -> None:
    """A first visit by address, and every address after signing out, show only sign-in."""
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
        # On a fresh server the first page request names a page: the frame must still run first.
        first = browser.new_page()
        first.goto(f"{base}/users")
        shows_only_the_sign_in_page(first)
        first.close()

        page = signed_in(browser, base)
        cookie = session_cookie(page)
        assert cookie is not None and cookie["httpOnly"] and cookie["sameSite"] == "Lax"
        page.reload()  # the cookie brings the browser back in
        appears(page.get_by_text("Revenue, last 30 days"))
        page.get_by_role("button", name="Sign out").click()
        appears(page.get_by_role("button", name="Sign in"))
        forgotten(page)
        for address in (f"customer?id={customer_id}", "users"):
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
