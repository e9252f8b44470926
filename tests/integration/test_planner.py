"""The planner against a local OpenAI-compatible server: good answers, bad answers, no answer,
and the built-in planner it falls back to."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core import campaigns, demo, scoring
from core.campaigns import planner
from core.campaigns.plans import Plan, PlanContext
from core.db import reset_engines, session_scope
from core.messaging import templates
from core.models import Channel, JobStatus, PlanCache, PlanSource
from core.permissions import SYSTEM
from core.segments import names, playbooks
from jobs import flows, queue
from tests.fakes import FakeOpenAI, Reply, fake_openai
from tests.moments import NOW, TODAY
from tests.server import free_port

START = TODAY + timedelta(days=1)
END = START + timedelta(days=6)
KEYS = ("lapsed-wine", "weekend-craft-beer", "champions")


@pytest.fixture
def store(built_store: Callable[..., dict[str, int]]) -> dict[str, int]:
    """A small scored demo store with three playbook segments, by playbook key."""
    return built_store("planner", build_store)


def build_store() -> dict[str, int]:
    from core.permissions import SYSTEM

    demo.load_demo(
        unit_of_work=session_scope, actor=SYSTEM, today=TODAY, customers=400, seed=3, now=NOW
    )
    scoring.score_customers(unit_of_work=session_scope, actor=SYSTEM, as_of=TODAY, now=NOW)
    with session_scope() as session:
        return {
            key: playbooks.create_from_playbook(session=session, actor=SYSTEM, key=key, now=NOW).id
            for key in KEYS
        }


@pytest.fixture
def ai(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Point the planner at whatever fake server the test starts (see `configure`)."""
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    monkeypatch.setenv("OPENAI_MODEL", "fake-planner")
    monkeypatch.setenv("OPENAI_TIMEOUT_SECONDS", "1")
    monkeypatch.setenv("OPENAI_MAX_RETRIES", "0")
    yield
    reset_engines()


@contextmanager
def ai_server(monkeypatch: pytest.MonkeyPatch, *replies: Reply) -> Iterator[FakeOpenAI]:
    """A fake OpenAI server the planner is pointed at (the environment is set before the
    server's thread starts: see tests.fakes.serving)."""
    port = free_port()
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{port}/v1")
    reset_engines()  # settings are read once; forget them
    with fake_openai(*replies, port=port) as server:
        yield server


def context(segment_ids: dict[str, int], **overrides: object) -> PlanContext:
    with session_scope(read_only=True) as session:
        return planner.build_context(
            session=session,
            segment_ids=list(segment_ids.values()),
            start=START,
            end=END,
            **{
                "goal": "Sell more wine before Thanksgiving",
                "channels": ("email", "sms"),
                **overrides,
            },
            today=TODAY,
        )


def plan_json(segment_ids: dict[str, int], **send_changes: object) -> str:
    sends = [
        {
            "day": (START + timedelta(days=i)).isoformat(),
            "local_time": "16:00",
            "segment_id": segment_id,
            "channel": "email",
            "offer_kind": "percent_off",
            "offer_value": 10,
            "offer_category": "wine",
            "offer_description": "10% off wine",
            "angle": "Thanksgiving table",
            **send_changes,
        }
        for i, segment_id in enumerate(segment_ids.values())
    ]
    return json.dumps({"summary": "Wine first, then beer.", "sends": sends})


def plan(ctx: PlanContext, *, use_ai: bool = True) -> planner.PlanOutcome:
    return planner.make_plan(unit_of_work=session_scope, context=ctx, use_ai=use_ai)


def test_a_valid_ai_plan_is_used_costed_and_cached(
    store: dict[str, int], ai: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    with ai_server(monkeypatch, Reply(plan_json(store))) as server:
        ctx = context(store)
        outcome = plan(ctx)
        assert outcome.source == PlanSource.AI and outcome.repairs == []
        assert len(outcome.plan.sends) == 3
        assert outcome.meta["prompt_tokens"] == 1200 and outcome.meta["completion_tokens"] == 300
        assert outcome.meta["cost_usd"] == pytest.approx((1200 * 0.15 + 300 * 0.60) / 1e6)
        # Reach and cost come from the database, whatever the model said.
        assert all(s.expected_reach > 0 and s.expected_cost_cents >= 0 for s in outcome.plan.sends)

        request = server.requests[0]
        assert request["path"] == "/v1/chat/completions" and request["auth"] == "Bearer test-key"
        body = request["body"]
        assert body["model"] == "fake-planner"
        assert body["response_format"]["type"] == "json_schema"
        assert body["response_format"]["json_schema"]["schema"] == Plan.model_json_schema()
        system, user = body["messages"]
        assert "21 or older" in system["content"] and "between 09:00 and 20:00" in system["content"]
        facts = json.loads(user["content"])
        assert {s["segment_id"] for s in facts["segments"]} == set(store.values())
        assert facts["liquor_calendar"] == [
            {"day": "2026-12-10", "moment": "Holiday shopping", "sells": ["spirits", "wine"]}
        ]

        again = plan(ctx)
        assert len(server.requests) == 1, "the same inputs are answered from the cache"
        assert again.meta["cached"] and again.note.endswith("(from the cache).")
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(PlanCache)) == 1


def test_rule_breaking_parts_are_repaired_and_said(
    store: dict[str, int], ai: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    answer = json.loads(plan_json(store))
    first, second, third = answer["sends"]
    first |= {
        "channel": "sms",
        "local_time": "21:30",
        "offer_value": 60,
        "offer_category": "wine",
        "offer_description": "60% off EVERYTHING",
        "angle": "Free shots for college nights",
    }
    second |= {"segment_id": 999}
    third |= {"day": (END + timedelta(days=3)).isoformat()}
    answer["sends"].append(
        {
            **first,
            "offer_kind": "amount_off",
            "offer_value": 500,
            "channel": "email",
            "local_time": "05:00",
        }
    )
    answer["sends"].append(
        {**first, "offer_kind": "gift", "offer_value": 400, "offer_description": "Free bottle"}
    )
    with ai_server(monkeypatch, Reply(json.dumps(answer))):
        outcome = plan(context(store, max_discount_percent=25))
    assert outcome.source == PlanSource.AI
    said = " ".join(outcome.repairs)
    assert "moved from 21:30 to 19:00" in said and "09:00–20:00" in said
    assert "60% off lowered to the 25% limit" in said
    assert "segment #999 is not in this campaign" in said
    assert "outside the campaign" in said
    assert "moved from 05:00 to 07:00" in said and "$500 off lowered" in said
    assert "$400 a gift worth lowered" in said
    assert "the offer text “60% off EVERYTHING” replaced by “25% off wine”" in said
    assert (
        'the angle “Free shots for college nights” dropped: "college" appeals to people under '
        '21; "Free shots" encourages drinking to excess (not allowed in an alcohol ad).'
    ) in said
    kept = outcome.plan.sends
    assert len(kept) == 3
    sms, gift = (s for s in kept if s.channel == "sms")
    assert sms.local_time == "19:00" and sms.offer_value == 25
    assert sms.offer_description == "25% off wine"  # what customers read matches the offer
    assert sms.angle == "", "the AI's words an alcohol ad may not say never reach a customer"
    assert gift.offer_value < 400 and gift.offer_description == "a gift with wine purchase"
    assert all(s.offer_description.startswith("$") for s in kept if s.offer_kind == "amount_off")


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (Reply("this is not JSON at all"), "was not a valid plan"),
        (
            Reply(json.dumps({"summary": "no sends"})),
            "was not a valid plan (sends: Field required)",
        ),
        (Reply(json.dumps({"sends": [{"day": "someday"}]})), "was not a valid plan"),
        (Reply(status=500), "the AI service failed (HTTP 500)"),
        (Reply(status=429), "the AI service failed (HTTP 429)"),
        (Reply(plan_json({"x": 1}), delay=2.5), "did not answer within 1 s"),
    ],
    ids=["not-json", "missing-sends", "bad-fields", "http-500", "http-429", "timeout"],
)
def test_a_failed_ai_falls_back_to_the_built_in_planner(
    store: dict[str, int], ai: None, monkeypatch: pytest.MonkeyPatch, reply: Reply, reason: str
) -> None:
    with ai_server(monkeypatch, reply) as server:
        outcome = plan(context(store))
        if reason == "was not a valid plan":
            assert len(server.requests) == planner.INVALID_ANSWER_ATTEMPTS, "asked again once"
    assert outcome.source == PlanSource.HEURISTIC
    assert reason in outcome.note
    assert outcome.plan.sends and not outcome.meta
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(PlanCache)) == 0


def test_a_plan_with_nothing_valid_falls_back(
    store: dict[str, int], ai: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    with ai_server(monkeypatch, Reply(plan_json({"a": 998, "b": 999}))):
        outcome = plan(context(store))
    assert outcome.source == PlanSource.HEURISTIC
    assert "broke the rules" in outcome.note and "#998" in outcome.note


def test_without_a_key_the_built_in_planner_plans(store: dict[str, int]) -> None:
    outcome = plan(context(store))
    assert outcome.source == PlanSource.HEURISTIC
    assert outcome.note == "Planned by the built-in planner: no AI key is configured."


def test_the_built_in_plan_follows_the_playbooks_and_the_rules(store: dict[str, int]) -> None:
    ctx = context(store)
    outcome = plan(ctx, use_ai=False)
    sends = outcome.plan.sends
    by_segment = {store[key]: key for key in KEYS}
    firsts = {}
    for send in sends:
        assert START <= send.day <= END
        if not send.angle.startswith(("Coming up", "Last chance")):
            firsts.setdefault(by_segment[send.segment_id], send)
    wine = firsts["lapsed-wine"]
    assert wine.day.weekday() == 3 and wine.local_time == "15:00"  # Thursday afternoon
    assert wine.offer_kind == "percent_off" and wine.offer_value == 15
    beer = firsts["weekend-craft-beer"]
    assert beer.day.weekday() == 4 and beer.offer_kind == "early_access"
    reminders = [s for s in sends if s.channel == "sms"]
    assert reminders and all("09:00" <= s.local_time < "20:00" for s in reminders)
    # Both ticked channels are used, for every segment that can get both.
    assert {s.channel for s in sends} == {"email", "sms"}
    assert "Built-in planner" in outcome.plan.summary
    with session_scope(read_only=True) as session:
        segment_names = names(session=session)
    assert all(segment_names[s.segment_id] in outcome.plan.summary for s in sends)


def test_budget_and_frequency_cap_trim_the_plan(store: dict[str, int]) -> None:
    everything = plan(context(store), use_ai=False).plan
    cheapest = min(s.expected_cost_cents for s in everything.sends)
    tight = plan(context(store, budget_cents=cheapest), use_ai=False)
    assert tight.plan.total_cost_cents() <= cheapest
    assert any("budget" in r for r in tight.repairs)

    # Four sends to the same segment in a week: the fourth goes over a cap of three.
    with session_scope() as session:
        from core import compliance

        compliance.save_policy(
            session=session, actor=SYSTEM, policy=compliance.Policy(frequency_cap_per_week=3)
        )
    answer = Plan.model_validate_json(plan_json({"a": store["champions"]}))
    sends = [
        answer.sends[0].model_copy(update={"day": START + timedelta(days=i)}) for i in range(4)
    ]
    with session_scope() as session:
        from core.campaigns.plans import check_plan

        checked = check_plan(
            session=session, plan=Plan(summary="", sends=sends), context=context(store)
        )
    assert len(checked.plan.sends) == 3
    assert "would already have their 3 messages this week" in checked.repairs[0]


def test_nobody_to_plan_for_is_a_clear_error(database: str) -> None:
    from core.errors import ValidationError

    with pytest.raises(ValidationError, match="at least one segment"), session_scope() as session:
        planner.build_context(session=session, segment_ids=[], start=START, end=END, today=TODAY)
    with pytest.raises(ValidationError, match="ends before it starts"), session_scope() as session:
        planner.build_context(session=session, segment_ids=[1], start=END, end=START, today=TODAY)


@pytest.mark.both_databases
def test_planning_on_postgresql_too(store: dict[str, int]) -> None:
    segment_ids = store
    outcome = plan(context(segment_ids), use_ai=False)
    assert outcome.source == PlanSource.HEURISTIC and len(outcome.plan.sends) >= 3


def add_template(name: str, channel: str, campaign_type: str) -> int:
    body = (
        "<p>{{ first_name }}: {{ offer.description }}</p><p>{{ store.address }} "
        "{{ unsubscribe_url }}</p>"
        if channel == "email"
        else ""
    )
    with session_scope() as session:
        return templates.save_template(
            session=session,
            actor=SYSTEM,
            draft=templates.Draft(
                name=name,
                channel=Channel(channel),
                campaign_type=campaign_type,
                subject="A note" if channel == "email" else "",
                body_html=body,
                body_text=""
                if channel == "email"
                else "{{ offer.description }} — {{ store.name }}",
            ),
        ).id


def test_plans_pick_the_stores_own_template_of_the_campaigns_type(
    store: dict[str, int], ai: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    email = add_template("Holiday letter", "email", "holiday")
    add_template("Win-back letter", "email", "win_back")
    holiday = context(store, campaign_type="holiday")
    built = plan(holiday, use_ai=False).plan.sends
    assert {s.template_id for s in built if s.channel == "email"} == {email}
    # Texts get the store's holiday text template (a default one, installed with the store).
    with session_scope(read_only=True) as session:
        default_text = templates.default_template(
            session=session, campaign_type="holiday", channel="sms"
        )
    assert default_text is not None and default_text.campaign_type == "holiday"
    assert {s.template_id for s in built if s.channel == "sms"} == {default_text.id}

    # The AI is shown the templates, and a template of the wrong channel is put right.
    with ai_server(
        monkeypatch, Reply(plan_json(store, channel="sms", template_id=email))
    ) as server:
        outcome = plan(holiday)
    facts = json.loads(server.requests[0]["body"]["messages"][1]["content"])
    shown = {
        t["template_id"]: (t["name"], t["channel"], t["campaign_type"]) for t in facts["templates"]
    }
    assert shown[email] == ("Holiday letter", "email", "holiday")
    assert all(s.template_id is None for s in outcome.plan.sends)
    assert any(
        f"template #{email} is not one of the store's sms templates" in r for r in outcome.repairs
    )


def test_the_goal_names_the_category_where_no_playbook_does(store: dict[str, int]) -> None:
    built = plan(context(store, goal="Move more bourbon this week"), use_ai=False).plan
    assert "offers on spirits" in built.summary
    champions = [s for s in built.sends if s.segment_id == store["champions"]]
    assert champions and all(s.offer_category == "spirits" for s in champions)


def draft_for(store: dict[str, int], name: str) -> int:
    """A draft named `name`, whose goal (its name) keeps the planner's cache out of the way."""
    with session_scope() as session:
        return campaigns.create_campaign(
            session=session,
            actor=SYSTEM,
            details=campaigns.Details(
                name=name,
                goal=name,
                starts_at=NOW + timedelta(days=1),
                ends_at=NOW + timedelta(days=7),
                segment_ids=tuple(store.values()),
                channels=("email", "sms"),
            ),
        ).id


def steps_of(campaign_id: int) -> int:
    with session_scope(read_only=True) as session:
        return len(campaigns.get_campaign(session=session, campaign_id=campaign_id).steps)


def test_planning_runs_in_a_job_that_can_be_cancelled(
    store: dict[str, int], ai: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    kept, dropped = draft_for(store, "Kept"), draft_for(store, "Dropped")
    with ai_server(monkeypatch, Reply(plan_json(store), delay=0.6)) as server:
        job_id = flows.plan_campaign(actor=SYSTEM, campaign_id=kept, use_ai=True)
        assert queue.wait_for(job_id, timeout=30).status == JobStatus.SUCCEEDED
        assert steps_of(kept) == 3

        job_id = flows.plan_campaign(actor=SYSTEM, campaign_id=dropped, use_ai=True)
        deadline = time.monotonic() + 10
        while not server.requests[1:] and time.monotonic() < deadline:
            time.sleep(0.02)  # until the model is thinking
        assert flows.cancel_job(actor=SYSTEM, job_id=job_id)
        finished = queue.wait_for(job_id, timeout=30)
    assert finished.status == JobStatus.CANCELLED
    assert steps_of(dropped) == 0, "a cancelled plan is thrown away"
    assert not flows.cancel_job(actor=SYSTEM, job_id=job_id), "it cannot be cancelled twice"


def test_an_offer_the_stores_state_forbids_is_dropped_and_said(store: dict[str, int]) -> None:
    """An Iowa store may not advertise "buy 2 get 1 free" bundles (COMPLIANCE.md)."""
    from dataclasses import replace

    from core.campaigns.plans import OfferKind, check_plan

    answer = Plan.model_validate_json(plan_json({"a": store["champions"]}))
    bundle = answer.sends[0].model_copy(
        update={
            "offer_kind": OfferKind.BUNDLE,
            "offer_value": 5.0,
            "offer_category": "beer",
            "offer_description": "",
        }
    )
    with session_scope() as session:
        iowa = check_plan(
            session=session,
            plan=Plan(summary="", sends=[bundle]),
            context=replace(context(store), store_state="IA"),
        )
        illinois = check_plan(
            session=session,
            plan=Plan(summary="", sends=[bundle]),
            context=replace(context(store), store_state="IL"),
        )
    assert iowa.repairs == [
        "Send 1: its offer dropped: IA's promotion rules forbid bundle (buy some, get one free) "
        "offers."
    ]
    kept = iowa.plan.sends[0]
    assert (kept.offer_kind, kept.offer_value, kept.offer_description) == ("none", 0, "no offer")
    assert illinois.plan.sends[0].offer_kind == "bundle" and illinois.repairs == []
