"""Campaigns built in the browser on a demo store: one planned by an AI (a local fake of the
OpenAI API), reviewed and scheduled; one of the marketer's own, sent to approved actions only."""

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
    """A demo store, with a promotion template of the marketer's own (the template editor is
    tested page by page in tests/ui)."""
    from core import demo
    from core.db import session_scope
    from core.messaging import templates
    from core.models import Channel
    from core.permissions import SYSTEM

    with new_store(path) as url:
        demo.load_demo_store(
            unit_of_work=session_scope, actor=SYSTEM, customers=300, seed=8, now=NOW
        )
        with session_scope() as session:
            templates.save_template(
                session=session,
                actor=SYSTEM,
                draft=templates.Draft(
                    name="Cellar club note",
                    channel=Channel.EMAIL,
                    campaign_type="promotion",
                    subject="{{ first_name }}, from the cellar",
                    body_html="<p>Dear {{ first_name }}: {{ offer.description }}.</p>"
                    "<p>{{ store.address }} <a href='{{ unsubscribe_url }}'>Unsubscribe</a></p>",
                ),
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


def test_campaigns_built_planned_scheduled_and_sent(browser: Any, tmp_path: Path) -> None:
    import os
    from zoneinfo import ZoneInfo

    from sqlalchemy import select, update

    from core.db import reset_engines, session_scope, utc_now
    from core.models import CampaignStep, Message

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

            # The marketer's path for a first campaign of their own: their template, a campaign
            # that messages approved actions only, three approvals, exactly three messages with
            # that template, said to be test mode.
            page.goto(f"{base}/campaign?new=1")
            appears(page.get_by_label("Name"))
            page.get_by_label("Name").fill("Three for the cellar club")
            page.get_by_text("Approved actions only").click()
            page.get_by_role("button", name="Save and continue").click()
            appears(page.get_by_text("Send to the members of"))
            page.get_by_role("combobox").first.click()
            page.get_by_role("option", name="Champions (VIP)").click()
            page.keyboard.press("Escape")
            appears(page.get_by_text("Can be reached"))
            page.get_by_role("button", name="Save and continue").click()
            page.get_by_role("button", name="Use the built-in planner").click()
            appears(page.get_by_text("Planned by the built-in planner"), 60_000)
            page.get_by_role("button", name="Continue to review").click()
            appears(page.get_by_text("The messages", exact=True))
            assert page.get_by_text("Template “Cellar club note”", exact=False).count() >= 1
            page.get_by_role("button", name="Start now").click()
            # Running: "Started." flashes until its actions are ready, so wait for the controls.
            appears(page.get_by_role("button", name="Pause"), 60_000)
            campaign_id = int(page.url.split("id=")[1].split("&")[0])

            # Time passes: the planned send is due now.
            os.environ["DATABASE_URL"] = url
            reset_engines()
            # Six hours back in store time: due everywhere from New York to Honolulu.
            due = utc_now().astimezone(ZoneInfo("America/Chicago")) - timedelta(hours=6)
            with session_scope() as session:
                session.execute(
                    update(CampaignStep)
                    .where(CampaignStep.campaign_id == campaign_id)
                    .values(day=due.date(), local_time=f"{due:%H:%M}")
                )

            page.goto(f"{base}/actions?campaign={campaign_id}")
            appears(page.get_by_text("messages approved actions only"))
            grid = page.locator("[data-testid='stDataFrame']").first
            box = grid.bounding_box()
            for row in range(3):  # the row checkboxes, in the grid's first column
                page.mouse.click(box["x"] + 18, box["y"] + 35 + 35 * row + 17)
                page.wait_for_timeout(500)
            page.get_by_role("button", name="Approve 3 selected").click()
            appears(page.get_by_text("3 actions approved."))

            for _ in range(150):  # the send job takes them at once
                with session_scope(read_only=True) as session:
                    sent = session.scalars(
                        select(Message).where(Message.campaign_id == campaign_id)
                    ).all()
                if len(sent) == 3 and all(m.sent_at for m in sent):
                    break
                page.wait_for_timeout(200)
            page.goto(f"{base}/campaign?id={campaign_id}")
            page.get_by_role("tab", name="Performance").click()
            appears(page.get_by_text("Sent (test mode)"))
            screenshot(page, tmp_path, "approved-only.png")
            assert len(sent) == 3 and {m.provider for m in sent} == {"sandbox"}
            assert all(m.subject.endswith(", from the cellar") for m in sent)
            page.close()
