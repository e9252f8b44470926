"""Import a point-of-sale export in a real browser, from an empty store to the report of its
bad rows."""

from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import appears, clicked_through, screenshot, settle
from tests.server import running_app

pytestmark = pytest.mark.e2e


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
        clicked_through(
            page,
            page.get_by_role("link", name="Import data"),
            page.get_by_text("What is in the file?"),
        )
        appears(page.get_by_role("button", name="Download a sample customer file"))
        page.locator('input[type="file"]').set_input_files(str(csv))
        appears(page.get_by_role("button", name="Start import"))
        appears(page.get_by_text("Checked all 3 rows of the file"))
        page.get_by_role("button", name="Start import").click()
        appears(page.get_by_text("Import finished."), 60_000)
        # The card says so too: no "running" with zeros beside "finished".
        assert page.get_by_text("pos-export.csv — finished").is_visible()
        settle(page)
        screenshot(page, tmp_path, "import.png")
        added = page.locator('[data-testid="stMetric"]', has_text="Added")
        assert "2" in added.inner_text()
        failed = page.locator('[data-testid="stMetric"]', has_text="Failed")
        assert "1" in failed.inner_text()
        assert page.get_by_role("button", name="Download all problem rows (CSV)").is_visible()
        page.close()
