"""The main flow in a real browser: first-run setup, the demo store, the home page numbers."""

from pathlib import Path
from typing import Any

import pytest
import requests

from tests.e2e.conftest import appears, remembered, screenshot, tab_opened
from tests.server import running_app

pytestmark = pytest.mark.e2e

SIDEBAR_FOLDED = """() => {
    const out = [...document.querySelectorAll('button')]
        .find(b => b.innerText.trim() === 'Sign out');
    return !out || out.getBoundingClientRect().right <= 0;
}"""
"""The sidebar slides away on a phone: true once its Sign out button is off the screen."""


def test_first_run_to_demo_store(browser: Any, tmp_path: Path) -> None:
    # The production sign-in brake, so resuming from the cookie is tested as it runs for real.
    # A 300-customer demo: the flow is the point here (test_demo checks the full-size store).
    served = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'e2e.db'}",
        "LOGIN_SLEEP_SECONDS": "0.7",
        "DEMO_CUSTOMERS": "300",
    }
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
        # Setup asks for the store: its name and address are every email's legal footer.
        page.get_by_label("Store name").fill("Corner Cellar")
        page.get_by_label("Street address").fill("1200 N Milwaukee Ave")
        page.get_by_role("textbox", name="ZIP").fill("60622")
        page.get_by_role("button", name="Create administrator").click()
        # The demo loads in the background; the home page follows it and then shows the numbers.
        # Meanwhile: the title once, and no offer to load a demo that is loading.
        loading = page.get_by_text("Loading the demo store").or_(
            page.get_by_text("Revenue, last 30 days")
        )
        appears(loading, 60_000)
        assert page.locator("h1").all_inner_texts() == ["Corner Cellar"]
        assert page.get_by_text("Try it with a demo store").count() == 0
        appears(page.get_by_text("Revenue, last 30 days"), 120_000)
        appears(page.get_by_text("Weekly revenue by category"))
        screenshot(page, tmp_path, "home.png")
        customers = page.locator('[data-testid="stMetric"]', has_text="Customers")
        assert "300" in customers.inner_text()
        assert page.get_by_role("button", name="Sign out").is_visible()
        remembered(page)
        page.close()

        # A new tab, phone-sized: the sign-in cookie brings the user back, the sidebar folds away.
        phone = context.new_page()
        phone.set_viewport_size({"width": 390, "height": 844})
        phone.goto(base)
        appears(phone.get_by_text("Revenue, last 30 days"))
        phone.wait_for_function(SIDEBAR_FOLDED)
        box = phone.get_by_role("button", name="Sign out").bounding_box()
        assert box is None or box["x"] + box["width"] <= 0, f"sidebar still open: {box}"
        screenshot(phone, tmp_path, "home-phone.png")
        phone.close()

        # A bookmark to a page opens that page, not Home.
        bookmark = context.new_page()
        bookmark.goto(f"{base}/customers")
        appears(bookmark.get_by_placeholder("Name, email or phone"))
        assert bookmark.url.endswith("/customers")

        # The demo comes scored, with playbook segments; the rule builder counts live.
        bookmark.goto(f"{base}/segments")
        appears(bookmark.get_by_role("tab", name="Playbooks"))
        screenshot(bookmark, tmp_path, "segments.png")
        tab_opened(bookmark, "Playbooks", bookmark.get_by_text("In use"))
        assert bookmark.get_by_text("In use").count() == 4
        bookmark.goto(f"{base}/segment?id=1")
        appears(bookmark.get_by_text("Customers matching now"))
        appears(bookmark.get_by_text("Favourite category is one of wine"))
        screenshot(bookmark, tmp_path, "segment.png")

        # The demo's past campaigns say what they earned, against their control groups.
        bookmark.goto(f"{base}/campaigns")
        appears(bookmark.get_by_text("by offer code").first)
        bookmark.get_by_role("link", name="Open").first.click()
        bookmark.get_by_role("tab", name="Performance").click()
        appears(bookmark.get_by_text("than doing nothing").first)
        appears(bookmark.get_by_text("Revenue by offer code"))
        screenshot(bookmark, tmp_path, "campaign-results.png")
        # Its subject-line test: the variants side by side, with the verdict.
        bookmark.get_by_role("tab", name="A/B tests").click()
        appears(bookmark.get_by_text("judged by click rate at 95% confidence").first)
        appears(bookmark.get_by_text("Revenue per recipient").first)
        screenshot(bookmark, tmp_path, "campaign-abtest.png")

        # A manager's dashboard: real figures in every card, the campaigns on the trend.
        bookmark.goto(f"{base}/analytics")
        appears(bookmark.get_by_text("Revenue by day, campaigns marked where they started"))
        assert bookmark.get_by_text("Thanksgiving table").count() >= 1
        assert bookmark.get_by_test_id("stMetric").count() == 13
        screenshot(bookmark, tmp_path, "analytics.png")
        bookmark.get_by_role("tab", name="Cohorts and churn").click()
        appears(bookmark.get_by_text("Share of each cohort ordering").first)
        context.close()
