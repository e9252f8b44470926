"""Browser tests: Playwright driving Debian's chromium (no browser download works here)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
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


def drawn(page: Any, timeout: float = 30_000) -> None:
    """Wait until the run has finished and every chart has drawn itself (plotly draws after the
    run, into an SVG of its own)."""
    settle(page, timeout)
    page.wait_for_function(
        """() => [...document.querySelectorAll('.js-plotly-plot')]
            .every(chart => chart.querySelector('.main-svg'))""",
        timeout=timeout,
    )


def screenshot_folder(tmp_path: Path) -> Path:
    """E2E_SCREENSHOTS when set (to keep the pictures), else the test's own folder."""
    folder = Path(os.environ.get("E2E_SCREENSHOTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def screenshot(page: Any, tmp_path: Path, name: str) -> Path:
    """A full-page screenshot of a Streamlit page once it has drawn."""
    drawn(page)
    path = screenshot_folder(tmp_path) / name
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")
    return path


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
    from core import auth
    from core.db import reset_engines, session_scope, utc_now
    from core.infra import migration_runner

    url = f"sqlite:///{path}"
    migration_runner.upgrade(url)
    previous = os.environ.get("DATABASE_URL", "")
    os.environ["DATABASE_URL"] = url
    try:
        reset_engines()
        with session_scope() as session:
            auth.create_first_admin(
                session=session,
                email=ADMIN_EMAIL,
                name="Olive",
                password=PASSWORD,
                now=utc_now(),
                client=None,
                setup_token=auth.setup_token(),
            )
        yield url
    finally:
        os.environ["DATABASE_URL"] = previous
        reset_engines()


def clicked_through(page: Any, target: Any, shows: Any, tries: int = 5) -> None:
    """Click a link `target` until `shows` appears: a click that lands while Streamlit re-runs
    (a live fragment, a session resuming, the sign-in cookie arriving) can be lost. An answered
    click shows its page within a second or two, so a try waits three."""
    _until_shown(page, lambda: target.first.click(), shows, tries)


def tab_opened(page: Any, label: str, shows: Any, tries: int = 5) -> None:
    """Open the tab `label` until `shows` appears."""
    _until_shown(page, lambda: page.get_by_role("tab", name=label).click(), shows, tries)


def _until_shown(page: Any, act: Callable[[], None], shows: Any, tries: int) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for _ in range(tries):
        act()
        try:
            shows.first.wait_for(timeout=3_000)
            break
        except PlaywrightTimeout:
            settle(page)
    appears(shows)


def signed_in(browser: Any, base: str, width: int = 1400, height: int = 1000) -> Any:
    """A new page signed in as the administrator of `new_store`, on the home page."""
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(base)
    page.get_by_label("Email").fill(ADMIN_EMAIL)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    appears(page.get_by_text("Revenue, last 30 days"))
    remembered(page)
    return page


def remembered(page: Any, timeout: float = 30) -> None:
    """Wait for the sign-in cookie, which the browser collects once the signed-in page has shown:
    a page opened by address before then would start a session that is not signed in. (The
    cookie is HttpOnly: the page's own scripts cannot see it, so ask the browser.)"""
    _until(page, lambda: session_cookie(page) is not None, timeout, "the sign-in cookie")


def forgotten(page: Any, timeout: float = 30) -> None:
    """Wait until the browser has dropped the sign-in cookie (after signing out)."""
    _until(page, lambda: session_cookie(page) is None, timeout, "the cookie to go")


def session_cookie(page: Any) -> dict[str, Any] | None:
    return next((c for c in page.context.cookies() if c["name"] == "lastcall_session"), None)


def _until(page: Any, done: Callable[[], bool], timeout: float, what: str) -> None:
    for _ in range(int(timeout * 10)):
        if done():
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"waited {timeout} s for {what}")
