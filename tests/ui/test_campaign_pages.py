"""The campaign builder, a campaign's page, the list and the actions, through the frame."""

from collections.abc import Callable
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from core import abtests, attribution, campaigns, demo, scoring
from core.campaigns import Details, actions, planner
from core.campaigns.preflight import preflight
from core.db import session_scope, utc_now
from core.infra import job_rows
from core.models import Action, Campaign, CampaignStatus, JobStatus, TestStatus
from core.permissions import SYSTEM, Role
from core.segments import playbooks
from jobs import queue
from tests.moments import NOW, TODAY
from tests.ui.conftest import frame, make_user, sign_in, texts


def build_store() -> list[int]:
    demo.load_demo(
        unit_of_work=session_scope, actor=SYSTEM, today=TODAY, customers=300, seed=5, now=NOW
    )
    scoring.score_customers(unit_of_work=session_scope, actor=SYSTEM, as_of=TODAY, now=NOW)
    with session_scope() as session:
        return [
            playbooks.create_from_playbook(session=session, actor=SYSTEM, key=key, now=NOW).id
            for key in ("lapsed-wine", "champions")
        ]


@pytest.fixture
def store(built_store: Callable[..., list[int]]) -> list[int]:
    """A scored 300-customer demo store with two playbook segments, by id."""
    return built_store("ui-campaigns", build_store)


def button(at, label: str):
    return next(b for b in at.button if b.label.startswith(label))


def the_campaign() -> Campaign:
    with session_scope(read_only=True) as session:
        campaign = session.scalars(select(Campaign)).one()
        campaign.steps  # noqa: B018
        session.expunge_all()
        return campaign


def open_campaign(role: Role, campaign_id: int | None = None, *, new_user: bool = True):
    at = sign_in(frame(), make_user(role) if new_user else f"{role}@example.com")
    if campaign_id is not None:
        at.query_params["id"] = str(campaign_id)
    return at.switch_page("pages/campaign.py").run()


@pytest.mark.slow
def test_build_plan_and_schedule_a_campaign(store: list[int]) -> None:
    at = open_campaign(Role.MARKETER)
    assert at.title[0].value == "New campaign"
    at.text_input[0].input("Thanksgiving wine")
    at.text_area[0].input("Fill the holiday table")
    button(at, "Save and continue").click().run()
    assert not at.exception
    draft = the_campaign()
    assert draft.status == CampaignStatus.DRAFT and draft.name == "Thanksgiving wine"
    assert draft.builder_step == 2, "the draft is saved and step 2 is open"

    at.multiselect[0].set_value(store).run()
    at.checkbox[1].check().run()  # SMS too
    labels = [m.label for m in at.metric]
    assert labels == ["In these segments", "Excluded", "Can be reached", "Cannot be reached"]
    assert int(at.metric[2].value.replace(",", "")) > 0
    button(at, "Save and continue").click().run()
    assert the_campaign().builder_step == 3 and the_campaign().channels == ["email", "sms"]

    button(at, "Plan it for me").click().run()
    assert not at.exception
    # Planning runs in a job: the page shows it going (with a way to cancel) and stays usable.
    with session_scope(read_only=True) as session:
        job_id = job_rows.recent_jobs(session=session, kind="campaign.plan", limit=1)[0].id
    assert queue.wait_for(job_id, timeout=60).status == JobStatus.SUCCEEDED
    at.run()
    assert "Planned by the built-in planner: no AI key is configured." in texts(at)
    assert the_campaign().steps and the_campaign().plan_source == "heuristic"
    assert len(at.get("plotly_chart")) == 1

    button(at, "Continue to review").click().run()
    assert [m.label for m in at.metric][:2] == ["Sends", "Messages"]
    # Each send's message, rendered for a real recipient, and the real number of actions.
    sends = len(the_campaign().steps)
    assert len(at.expander) == sends + 1 and texts(at).count("Template “") == sends
    with session_scope(read_only=True) as session:
        report = preflight(session=session, campaign=the_campaign(), today=TODAY)
    assert f"**Pre-flight:** {report.sentence()}." in texts(at)
    assert report.eligible > 0 and sum(report.excluded.values()) > 0, "the demo has both"
    assert "prioritized actions are prepared (the top of" in texts(at)
    button(at, "Schedule for").click().run()
    assert not at.exception
    assert the_campaign().status == CampaignStatus.SCHEDULED
    assert "Scheduled: it starts by itself" in texts(at)
    assert ":blue-badge[Scheduled]" in texts(at)


@pytest.mark.slow
def test_a_step_that_is_not_complete_says_why_and_keeps_the_draft(store: list[int]) -> None:
    at = open_campaign(Role.MARKETER)
    at.text_input[0].input("Backwards")
    at.date_input[1].set_value(date.today() - timedelta(days=30))  # ends before it starts
    button(at, "Save and continue").click().run()
    assert "The campaign must end after it starts." in texts(at)
    assert the_campaign().builder_step == 1


def test_a_draft_is_deleted_only_after_saying_yes(store: list[int]) -> None:
    at = open_campaign(Role.MARKETER)
    at.text_input[0].input("Short-lived")
    button(at, "Save and continue").click().run()
    draft = the_campaign()
    at = open_campaign(Role.MARKETER, draft.id, new_user=False)
    button(at, "Delete this draft").click().run()
    assert "Delete the draft “Short-lived” for good?" in texts(at)
    assert the_campaign().id == draft.id, "nothing is deleted before the yes"
    button(at, "Yes, delete").click().run()
    assert not at.exception
    assert "Deleted “Short-lived”." in texts(at)
    with session_scope(read_only=True) as session:
        assert session.get(Campaign, draft.id) is None


@pytest.mark.slow
def test_running_campaigns_pause_and_resume(store: list[int]) -> None:
    with session_scope() as session:
        campaign = campaigns.create_campaign(
            session=session,
            actor=SYSTEM,
            details=Details(
                name="Live",
                starts_at=utc_now(),
                ends_at=utc_now() + timedelta(6),
                segment_ids=tuple(store),
            ),
        )
        context = campaigns.plan_context(session=session, campaign=campaign, now=NOW)
        outcome = planner.make_plan(unit_of_work=session_scope, context=context)
        campaigns.save_plan(
            session=session, actor=SYSTEM, campaign_id=campaign.id, outcome=outcome, now=NOW
        )
        campaigns.start_now(session=session, actor=SYSTEM, campaign_id=campaign.id, now=NOW)
        actions.generate_actions(
            session=session, actor=SYSTEM, campaign_id=campaign.id, limit=30, now=NOW
        )
        campaign_id = campaign.id
    at = open_campaign(Role.MARKETER, campaign_id)
    assert ":green-badge[Running]" in texts(at)
    assert len(at.dataframe) == 2, "the plan and the top actions"
    button(at, "Pause").click().run()
    assert the_campaign().status == CampaignStatus.PAUSED
    assert "is paused now" in texts(at)
    button(at, "Resume").click().run()
    assert the_campaign().status == CampaignStatus.RUNNING

    viewer = open_campaign(Role.VIEWER, campaign_id)
    assert not [b for b in viewer.button if b.label in ("Pause", "Complete", "Duplicate")]


def test_the_list_and_the_actions_page(store: list[int]) -> None:
    with session_scope() as session:
        for name in ("First", "Second"):
            made = campaigns.create_campaign(
                session=session,
                actor=SYSTEM,
                details=Details(
                    name=name,
                    starts_at=utc_now(),
                    ends_at=utc_now() + timedelta(6),
                    segment_ids=tuple(store),
                ),
            )
        context = campaigns.plan_context(session=session, campaign=made, now=NOW)
        campaigns.save_plan(
            session=session,
            actor=SYSTEM,
            campaign_id=made.id,
            outcome=planner.make_plan(unit_of_work=session_scope, context=context),
            now=NOW,
        )
        actions.generate_actions(
            session=session, actor=SYSTEM, campaign_id=made.id, limit=20, now=NOW
        )
    at = sign_in(frame(), make_user(Role.MARKETER))
    at.switch_page("pages/campaigns.py").run()
    assert not at.exception
    assert "**Second** :gray-badge[Draft]" in texts(at) and "**First**" in texts(at)

    at.switch_page("pages/actions.py").run()
    assert not at.exception
    assert [m.value for m in at.metric] == ["20", "20", "0", "0", "0"]
    assert "messages everyone reachable in its segments, except customers you skip" in texts(at)
    button(at, "Approve all 20 proposed").click().run()
    assert "20 actions approved." in texts(at)
    with session_scope(read_only=True) as session:
        assert {a.status for a in session.scalars(select(Action))} == {"approved"}


def test_a_segment_lists_the_campaigns_that_use_it(store: list[int]) -> None:
    with session_scope() as session:
        campaigns.create_campaign(
            session=session, actor=SYSTEM, details=Details(name="Uses it", segment_ids=(store[0],))
        )
    at = sign_in(frame(), make_user(Role.VIEWER))
    at.query_params["id"] = str(store[0])
    at.switch_page("pages/segment.py").run()
    links = [link.proto.label for link in at.get("page_link")]
    assert "Uses it · draft" in links


def build_history() -> dict[str, int]:
    demo.load_demo_store(unit_of_work=session_scope, actor=SYSTEM, now=NOW, customers=400, seed=5)
    with session_scope(read_only=True) as session:
        return {c.name: c.id for c in campaigns.list_campaigns(session=session)}


def results_of(campaign_id: int) -> attribution.Results:
    with session_scope(read_only=True) as session:
        return attribution.campaign_results(session=session, campaign_ids=[campaign_id], now=NOW)[
            campaign_id
        ]


@pytest.mark.slow
def test_past_campaigns_show_what_they_earned(
    built_store: Callable[..., dict[str, int]],
) -> None:
    past = built_store("ui-campaign-history", build_history)
    at = sign_in(frame(), make_user(Role.VIEWER))
    at.switch_page("pages/campaigns.py").run()
    assert not at.exception
    lines = [c.value for c in at.caption if c.value.startswith("Revenue $")]
    assert len(lines) == len(past) and all("by offer code" in line for line in lines)
    at = open_campaign(Role.VIEWER, past["Thanksgiving table"], new_user=False)
    assert not at.exception
    shown = texts(at)
    for label in ("Revenue by offer code", "Revenue in the window", "Incremental revenue"):
        assert label in shown
    results = results_of(past["Thanksgiving table"])
    assert results.lift is not None and results.lift.sentence() in shown
    code = next(m for m in at.metric if m.label == "Revenue by offer code")
    assert code.value == f"${results.revenue.code_cents / 100:,.0f}"
    assert len(at.get("plotly_chart")) == 3, "the plan's timeline, the funnel, day by day"
    by_segment = next(d.value for d in at.dataframe if "Codes redeemed" in d.value.columns)
    assert by_segment["Codes redeemed"].sum() == results.revenue.code_orders
    assert by_segment["Revenue by code"].sum() * 100 == pytest.approx(results.revenue.code_cents)


@pytest.mark.slow
def test_a_send_is_ab_tested_from_the_builder_and_followed_on_its_page(store: list[int]) -> None:
    with session_scope() as session:
        draft = campaigns.create_campaign(
            session=session,
            actor=SYSTEM,
            details=Details(
                name="Subject test",
                segment_ids=(store[0],),
                channels=("email",),
                starts_at=NOW + timedelta(days=1),
                ends_at=NOW + timedelta(days=7),
            ),
        )
        draft_id = draft.id
    with session_scope() as session:
        outcome = campaigns.propose_plan(
            unit_of_work=session_scope, actor=SYSTEM, campaign_id=draft_id, use_ai=False, now=NOW
        )
        campaigns.save_plan(
            session=session, actor=SYSTEM, campaign_id=draft_id, outcome=outcome, now=NOW
        )
    at = open_campaign(Role.MARKETER, draft_id)
    assert not at.exception
    step = the_campaign().steps[0]
    assert "A/B test a send" in texts(at)
    at.text_input(key=f"abtest_{step.id}_1_subject").input("{{ first_name }}, wine night").run()
    at.number_input(key=f"abtest_{step.id}_effect").set_value(5.0).run()
    sizing = next(
        s.value for s in (*at.success, *at.warning) if "recipients per variant" in s.value
    )
    assert sizing.startswith("Needs ") and "Baseline: a typical click rate (3%)" in sizing
    button(at, "Save the test").click().run()
    assert not at.exception and "A/B test saved on Send 1" in texts(at)
    with session_scope(read_only=True) as session:
        test = abtests.test_of_step(session=session, step_id=step.id)
        assert test is not None and [v.subject for v in test.variants] == [
            "",
            "{{ first_name }}, wine night",
        ]
        assert test.min_effect == pytest.approx(0.05)
        test_id = test.id

    button(at, "Continue to review").click().run()
    assert "A/B test on Send 1" in texts(at)
    with session_scope() as session:
        campaigns.start_now(session=session, actor=SYSTEM, campaign_id=draft_id, now=NOW)
    at = open_campaign(Role.MARKETER, draft_id, new_user=False)
    assert not at.exception
    shown = texts(at)
    variants = at.table[0].value
    assert list(variants.columns) == ["A", "B"]
    assert variants.loc["Sends", "B"].endswith("subject “{{ first_name }}, wine night”")
    assert variants.loc["Sent to", "B"] == "0" and variants.loc["Click rate", "B"] == "—"
    assert "Not decided yet: 0 of the" in shown
    button(at, "Choose B as the winner").click().run()
    button(at, "Yes, choose it").click().run()
    assert not at.exception
    with session_scope(read_only=True) as session:
        chosen = abtests.get_test(session=session, test_id=test_id)
        assert (chosen.status, chosen.winner) == (TestStatus.DECIDED, 1)
    assert "B chosen by marketer@example.com before the test reached" in texts(at)


def test_an_admin_signs_off_a_supplier_funded_campaign_in_the_review(store: list[int]) -> None:
    with session_scope() as session:
        draft_id = campaigns.create_campaign(
            session=session,
            actor=SYSTEM,
            details=Details(
                name="Bourbon week",
                segment_ids=(store[0],),
                channels=("email",),
                starts_at=NOW + timedelta(days=1),
                ends_at=NOW + timedelta(days=7),
                supplier="Hill Country Distillers",
            ),
        ).id
    with session_scope() as session:
        outcome = campaigns.propose_plan(
            unit_of_work=session_scope, actor=SYSTEM, campaign_id=draft_id, use_ai=False, now=NOW
        )
        campaigns.save_plan(
            session=session, actor=SYSTEM, campaign_id=draft_id, outcome=outcome, now=NOW
        )
    marketer = open_campaign(Role.MARKETER, draft_id)
    button(marketer, "Continue to review").click().run()
    assert "Paid for by Hill Country Distillers. Before it is scheduled" in texts(marketer)
    assert "an admin must sign it off first" in texts(marketer)
    assert not any(b.label.startswith("Sign off") for b in marketer.button)
    assert button(marketer, "Schedule").disabled

    admin = open_campaign(Role.ADMIN, draft_id)  # opens where the marketer left it: the review
    button(admin, "Sign off").click().run()
    assert not admin.exception and "Signed off." in texts(admin)
    assert "Paid for by Hill Country Distillers: signed off on" in texts(admin)
    assert not button(admin, "Schedule").disabled
    assert the_campaign().signed_off_at is not None
