"""A campaign built in the browser on a demo store, planned by an AI (a local fake of the
OpenAI API), reviewed and scheduled."""

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import appears, new_store, screenshot, signed_in
from tests.fakes import Reply, fake_openai
from tests.moments import NOW
from tests.server import running_app

pytestmark = pytest.mark.e2e


def demo_database(path: Path) -> str:
    from core import demo
    from core.db import session_scope
    from core.permissions import SYSTEM

    with new_store(path) as url:
        demo.load_demo_store(
            unit_of_work=session_scope, actor=SYSTEM, customers=1000, seed=8, now=NOW
        )
    return url


def ai_plan(first_day: datetime) -> str:
    """The fake model's answer: the lapsed wine lovers (segment 1) and the craft-beer regulars
    (segment 2), one email each; the second at 22:30, which the rules move earlier."""
    sends = [
        {
            "day": (first_day + timedelta(days=1)).date().isoformat(),
            "local_time": "15:00",
            "segment_id": 1,
            "channel": "email",
            "offer_kind": "percent_off",
            "offer_value": 15,
            "offer_category": "wine",
            "offer_description": "15% off a mixed case",
            "angle": "Stock up for the holidays",
        },
        {
            "day": (first_day + timedelta(days=2)).date().isoformat(),
            "local_time": "22:30",
            "segment_id": 2,
            "channel": "email",
            "offer_kind": "early_access",
            "offer_value": 0,
            "offer_category": "beer",
            "offer_description": "First pick of the winter releases",
            "angle": "New on the shelf",
        },
    ]
    return json.dumps({"summary": "Wine lovers first, then the beer regulars.", "sends": sends})


def test_build_plan_with_ai_and_schedule(browser: Any, tmp_path: Path) -> None:
    from zoneinfo import ZoneInfo

    url = demo_database(tmp_path / "campaign.db")
    tomorrow = datetime.now(ZoneInfo("America/Chicago")) + timedelta(days=1)
    with fake_openai(Reply(ai_plan(tomorrow))) as ai:
        env = {
            "DATABASE_URL": url,
            "OPENAI_API_KEY": "sk-local-fake-planner",
            "OPENAI_BASE_URL": ai.base_url,
            "OPENAI_MODEL": "fake-planner",
        }
        with running_app(env) as base:
            page = signed_in(browser, base, height=1100)

            page.goto(f"{base}/campaign?new=1")
            appears(page.get_by_label("Name"))
            page.get_by_label("Name").fill("Winter warmers")
            page.get_by_label("Goal").fill("Bring lapsed wine lovers back before the holidays")
            page.get_by_role("button", name="Save and continue").click()

            appears(page.get_by_text("Send to the members of"))
            chooser = page.get_by_role("combobox").first
            for name in ("Lapsed wine lovers", "Weekend craft-beer regulars"):
                chooser.click()
                page.get_by_role("option", name=name).click()
            page.keyboard.press("Escape")  # close the list: the choice is sent then
            appears(page.get_by_text("Can be reached"))
            page.get_by_role("button", name="Save and continue").click()
            appears(page.get_by_text("The planner reads your segments"))

            page.get_by_role("button", name="Ask the AI planner").click()
            appears(page.get_by_text("Planned by fake-planner.", exact=True), 60_000)
            appears(page.get_by_text("1 changes made to keep the plan within the rules"))
            screenshot(page, tmp_path, "campaign-plan.png")
            assert len(ai.requests) == 1

            page.get_by_role("button", name="Continue to review").click()
            page.get_by_role("button", name="Schedule for").click()
            appears(page.get_by_text("Scheduled: it starts by itself"))
            screenshot(page, tmp_path, "campaign.png")
            assert page.get_by_text("Scheduled", exact=True).count() >= 1
            page.close()
