"""Browser tests: Playwright driving Debian's chromium (no browser download works here)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import services_required

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        if services_required():
            pytest.fail(f"playwright is not installed: {exc}")
        pytest.skip("playwright is not installed")
    if not shutil.which(CHROMIUM):
        if services_required():
            pytest.fail("chromium is missing: apt-get install -y chromium")
        pytest.skip("chromium is missing: apt-get install -y chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield browser
        browser.close()


def settle(page: Any, timeout: float = 30_000) -> None:
    """Wait until Streamlit has finished the current run and dropped the stale copies of
    elements, so the next click lands on the fresh page rather than the one being replaced."""
    page.wait_for_function(
        """() => {
            const app = document.querySelector('[data-testid="stApp"]');
            return app && app.dataset.testScriptState === "notRunning"
                && !document.querySelector('[data-stale="true"]');
        }""",
        timeout=timeout,
    )


def appears(locator: Any, timeout: float = 30_000) -> None:
    """Wait for `locator` to show and for the run that shows it to finish. Streamlit keeps the
    previous run's elements until the new run replaces them, so for a moment a text can be on the
    page twice; `first` waits for either copy and `settle` for the stale one to go."""
    locator.first.wait_for(timeout=timeout)
    settle(locator.page, timeout)


PASSWORD = "a long enough password"
ADMIN_EMAIL = "olive@example.com"


@contextmanager
def new_store(path: Path) -> Iterator[str]:
    """A migrated SQLite database at `path` with an administrator (ADMIN_EMAIL, PASSWORD),
    current for this process while the block fills it; yields its URL."""
    from core import auth, schema
    from core.db import reset_engines, session_scope

    url = f"sqlite:///{path}"
    schema.upgrade(url)
    previous = os.environ.get("DATABASE_URL", "")
    os.environ["DATABASE_URL"] = url
    try:
        reset_engines()
        with session_scope() as session:
            auth.create_first_admin(
                session=session, email=ADMIN_EMAIL, name="Olive", password=PASSWORD
            )
        yield url
    finally:
        os.environ["DATABASE_URL"] = previous
        reset_engines()


def clicked_through(page: Any, target: Any, shows: Any, tries: int = 3) -> None:
    """Click `target` until `shows` appears: a click that lands while Streamlit re-runs (a live
    fragment, a session resuming) can be lost."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for _ in range(tries - 1):
        target.first.click()
        try:
            shows.first.wait_for(timeout=10_000)
            break
        except PlaywrightTimeout:
            settle(page)
    else:
        target.first.click()
    appears(shows)


def signed_in(browser: Any, base: str, width: int = 1400, height: int = 1000) -> Any:
    """A new page signed in as the administrator of `new_store`, on the home page."""
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(base)
    page.get_by_label("Email").fill(ADMIN_EMAIL)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    appears(page.get_by_text("Revenue, last 30 days"))
    return page
