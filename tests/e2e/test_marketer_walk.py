"""The pages a marketer meets on a demo store, in a real browser (issue 17's walk): names that
open profiles, a profile that agrees with itself, scores in plain words, segments that load
at once, a phone layout, and a temporary password that can be copied."""

from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import (
    appears,
    clicked_through,
    drawn,
    new_store,
    screenshot,
    settle,
    signed_in,
    tab_opened,
)
from tests.moments import NOW
from tests.server import running_app

pytestmark = pytest.mark.e2e

PHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)


def demo_database(path: Path) -> str:
    from core import demo
    from core.db import session_scope
    from core.permissions import SYSTEM

    with new_store(path) as url:
        demo.load_demo_store(
            unit_of_work=session_scope, actor=SYSTEM, customers=300, seed=8, now=NOW
        )
    return url


def click_first_name(page: Any) -> None:
    """Click the first row's name in the page's first table. The grid is drawn on a canvas,
    so by position: past the tick-box column (about 35 px), half a header (35 px) and half a
    row down."""
    grid = page.locator('[data-testid="stDataFrame"]').first
    grid.wait_for()
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 35 + 40, box["y"] + 35 + 17)


def test_a_marketer_walks_the_demo_store(browser: Any, tmp_path: Path) -> None:
    url = demo_database(tmp_path / "walk.db")
    with running_app({"DATABASE_URL": url}) as base:
        page = signed_in(browser, base, height=1300)

        # Customers: a click on a name opens that profile; the profile links back.
        page.goto(f"{base}/customers")
        appears(page.get_by_placeholder("Name, email or phone"))
        drawn(page)
        screenshot(page, tmp_path, "customers.png")
        click_first_name(page)
        appears(page.get_by_role("link", name="All customers"))
        assert "/customer?id=" in page.url
        # One-time buyers are not "100% likely" to come back; the outlook says what it rests on.
        outlook = page.get_by_text("Predicted to spend").or_(page.get_by_text("No purchase yet"))
        assert "100% likely" not in outlook.first.inner_text()
        tab_opened(page, "Purchases", page.get_by_text("orders, newest first"))
        screenshot(page, tmp_path, "profile-purchases.png")
        tab_opened(
            page,
            "Segments",
            page.get_by_role("link")
            .filter(has_text="(VIP)")
            .or_(page.get_by_text("Not in any segment")),
        )
        clicked_through(
            page, page.get_by_role("link", name="All customers"), page.get_by_text("Click a name")
        )

        # Scores in plain words, as of the latest order day.
        page.goto(f"{base}/scoring")
        appears(page.get_by_text("Predicts next year's spend within"))
        assert page.get_by_text("one-time buyers, how long they have been gone").is_visible()
        screenshot(page, tmp_path, "scores.png")

        # Segments: the list at once; clusters and the Venn when their tab is opened.
        page.goto(f"{base}/segments")
        appears(page.get_by_role("tab", name="Your segments"))
        assert page.get_by_text("Natural clusters").count() == 0
        tab_opened(page, "Clusters, lookalikes, overlap", page.get_by_text("Natural clusters"))
        assert page.get_by_text("The same data gives the same groups").is_visible()

        # Users: the temporary password is in a code block with a copy button.
        page.goto(f"{base}/users")
        appears(page.get_by_role("button", name="Add user"))
        page.get_by_label("Name").fill("Mona Marketer")
        page.get_by_label("Email").fill("mona@example.com")
        page.get_by_role("button", name="Add user").click()
        appears(page.get_by_text("Added mona@example.com."))
        code = page.locator('[data-testid="stCode"]').first
        assert len(code.inner_text().strip()) == 19
        code.hover()
        code.get_by_role("button", name="Copy to clipboard").wait_for(timeout=5_000)
        screenshot(page, tmp_path, "users.png")
        page.close()

        # A phone: two figures to a row before the chart, three columns of customers.
        context = browser.new_context(
            viewport={"width": 390, "height": 844}, user_agent=PHONE, is_mobile=True
        )
        phone = context.new_page()
        phone.goto(base)
        phone.get_by_label("Email").fill("olive@example.com")
        phone.get_by_label("Password", exact=True).fill("a long enough password")
        phone.get_by_role("button", name="Sign in").click()
        appears(phone.get_by_text("Revenue, last 30 days"))
        drawn(phone)
        metrics = phone.locator('[data-testid="stMetric"]')
        first, second = metrics.nth(0).bounding_box(), metrics.nth(1).bounding_box()
        assert abs(first["y"] - second["y"]) < 2, "two figures share a row"
        chart = phone.locator(".js-plotly-plot").first.bounding_box()
        assert chart["y"] < 1100, f"the chart starts {chart['y']} px down"
        screenshot(phone, tmp_path, "home-phone.png")
        phone.goto(f"{base}/customers")
        appears(phone.get_by_placeholder("Name, email or phone"))
        settle(phone)
        headers = phone.locator('[data-testid="stDataFrame"] [role="columnheader"]')
        headers.first.wait_for(state="attached")
        shown = headers.evaluate_all("cells => cells.map(cell => cell.textContent.trim())")
        assert [h for h in shown if h] == [
            "Name",
            "Last order",
            "Spent",
        ]
        screenshot(phone, tmp_path, "customers-phone.png")
        context.close()
