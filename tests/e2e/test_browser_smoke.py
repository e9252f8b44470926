"""The main flow in a real browser: first-run setup, the demo store, the home page numbers."""

import os
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.e2e.conftest import appears, clicked_through
from tests.server import running_app

pytestmark = pytest.mark.e2e


def screenshot_dir(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("E2E_SCREENSHOTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_first_run_to_demo_store(browser: Any, tmp_path: Path) -> None:
    # The production sign-in brake, so resuming from the cookie is tested as it runs for real.
    served = {"DATABASE_URL": f"sqlite:///{tmp_path / 'e2e.db'}", "LOGIN_SLEEP_SECONDS": "0.7"}
    with running_app(served) as base:
        assert requests.get(f"{base}/healthz", timeout=5).json()["status"] == "ok"
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.goto(base)
        appears(page.get_by_text("Create the administrator"))
        page.get_by_label("Your name").fill("Olive Owner")
        page.get_by_label("Email (you sign in with it)").fill("olive@example.com")
        page.get_by_label("Password", exact=True).fill("a long enough password")
        page.get_by_label("Repeat the password").fill("a long enough password")
        page.get_by_role("button", name="Create administrator").click()
        # The demo loads in the background; the home page follows it and then shows the numbers.
        appears(page.get_by_text("Revenue, last 30 days"), 120_000)
        appears(page.get_by_text("Weekly revenue by category"))
        page.wait_for_timeout(1500)
        shot = screenshot_dir(tmp_path) / "home.png"
        page.screenshot(path=str(shot), full_page=True)
        print(f"screenshot: {shot}")
        customers = page.locator('[data-testid="stMetric"]', has_text="Customers")
        assert "5,000" in customers.inner_text()
        assert page.get_by_role("button", name="Sign out").is_visible()
        page.close()

        # A new tab, phone-sized: the sign-in cookie brings the user back, the sidebar folds away.
        phone = context.new_page()
        phone.set_viewport_size({"width": 390, "height": 844})
        phone.goto(base)
        appears(phone.get_by_text("Revenue, last 30 days"))
        phone.wait_for_timeout(1000)
        box = phone.get_by_role("button", name="Sign out").bounding_box()
        assert box is None or box["x"] + box["width"] <= 0, f"sidebar still open: {box}"
        phone.screenshot(path=str(screenshot_dir(tmp_path) / "home-phone.png"), full_page=True)
        phone.close()

        # A bookmark to a page opens that page, not Home.
        bookmark = context.new_page()
        bookmark.goto(f"{base}/customers")
        appears(bookmark.get_by_placeholder("Name, email or phone"))
        assert bookmark.url.endswith("/customers")

        # The demo comes scored, with playbook segments; the rule builder counts live.
        bookmark.goto(f"{base}/segments")
        appears(bookmark.get_by_role("tab", name="Playbooks"))
        bookmark.wait_for_timeout(1500)
        bookmark.screenshot(path=str(screenshot_dir(tmp_path) / "segments.png"), full_page=True)
        assert bookmark.get_by_text("In use").count() == 4
        bookmark.goto(f"{base}/segment?id=1")
        appears(bookmark.get_by_text("Customers matching now"))
        appears(bookmark.get_by_text("Favourite category is one of wine"))
        bookmark.wait_for_timeout(1000)
        bookmark.screenshot(path=str(screenshot_dir(tmp_path) / "segment.png"), full_page=True)
        context.close()


def test_a_first_visit_to_a_page_url_still_asks_to_sign_in(browser: Any, tmp_path: Path) -> None:
    """On a fresh server the first request names a page: the frame must still run first."""
    from core import auth, schema
    from core.db import reset_engines, session_scope

    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    schema.upgrade(url)
    os.environ["DATABASE_URL"], previous = url, os.environ.get("DATABASE_URL", "")
    try:
        reset_engines()
        with session_scope() as session:
            auth.create_first_admin(
                session=session, email="a@example.com", name="A", password="a long enough password"
            )
    finally:
        os.environ["DATABASE_URL"] = previous
        reset_engines()
    with running_app({"DATABASE_URL": url}) as base:
        page = browser.new_page()
        page.goto(f"{base}/users")
        appears(page.get_by_role("button", name="Sign in"))
        assert page.get_by_text("Please sign in.").count() == 0
        assert page.get_by_text("Add a user").count() == 0
        page.close()


def test_import_a_csv_in_the_browser(browser: Any, tmp_path: Path) -> None:
    csv = tmp_path / "pos-export.csv"
    csv.write_text(
        "Customer #,First Name,Last Name,E-mail,Cell,DOB\n"
        "P1,Ana,Lopez,ana@example.com,(312) 555-0101,1985-03-02\n"
        "P2,Bob,Stone,not-an-email,,1990-01-01\n"
        "P3,Cy,Young,cy@example.com,773-555-0103,1979-07-04\n"
    )
    with running_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'import.db'}"}) as base:
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        page.goto(base)
        page.get_by_label("Your name").fill("Olive Owner")
        page.get_by_label("Email (you sign in with it)").fill("olive@example.com")
        page.get_by_label("Password", exact=True).fill("a long enough password")
        page.get_by_label("Repeat the password").fill("a long enough password")
        page.get_by_text("Load the demo store").click()  # untick: start empty
        page.get_by_role("button", name="Create administrator").click()
        appears(page.get_by_text("Let's get your store going"))
        clicked_through(page, page.get_by_role("link", name="Import data"),
                        page.get_by_text("What is in the file?"))  # fmt: skip
        page.locator('input[type="file"]').set_input_files(str(csv))
        appears(page.get_by_role("button", name="Start import"))
        page.get_by_role("button", name="Start import").click()
        appears(page.get_by_text("pos-export.csv — succeeded"), 60_000)
        page.wait_for_timeout(1000)
        page.screenshot(path=str(screenshot_dir(tmp_path) / "import.png"), full_page=True)
        added = page.locator('[data-testid="stMetric"]', has_text="Added")
        assert "2" in added.inner_text()
        failed = page.locator('[data-testid="stMetric"]', has_text="Failed")
        assert "1" in failed.inner_text()
        assert page.get_by_role("button", name="Download all problem rows (CSV)").is_visible()
        page.close()
