"""A/B tests end to end: variants written into the outbox by the hash, each sent its own
subject and offer, measured from clicks and purchases, judged at the fixed horizon, and the
winner sent to the rest of the audience exactly once, whatever dies on the way."""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from core import abtests, segments
from core.cli import main
from core.config import get_settings
from core.db import session_scope, utc_now
from core.errors import Conflict, ValidationError
from core.messaging import outbox, simulation
from core.models import (
    ABTest,
    Campaign,
    CampaignStatus,
    CampaignStep,
    Customer,
    Event,
    JobStatus,
    Message,
    MessageStatus,
    Order,
    TestStatus,
)
from core.permissions import SYSTEM, Actor, Role
from core.store_profile import fill_in_profile, get_store_profile
from jobs import clock, queue, tasks
from jobs.sending import find_at_provider
from tests.crashes import dies_on_opening
from tests.integration.conftest import (
    ADULT,
    NOON_CHICAGO,
    STEP_DAY,
    STORE,
    Clock,
    make_sender,
    send_all,
    sending,
)

# On PostgreSQL too where the SQL differs: the split and its writes, the results' aggregates,
# and the rollout's row locks. The rest (checks, the command line, the clock, the demo) runs the
# same statements again and stays on SQLite.

PEOPLE = 600
B_SUBJECT = "Last call, {{ first_name }}: {{ offer.description }}"


def build_tested_campaign(
    people: int = PEOPLE, b: abtests.VariantSpec | None = None, **spec: Any
) -> dict[str, int]:
    """600 adults who said yes to email, in one segment; a draft with one email step on
    STEP_DAY at 10:00 (a 10 % control group), tested with A (the step) against B (its own
    subject and 20 % off) by `spec`; then started. Returns the campaign, step and test ids."""
    with session_scope() as session:
        members = [
            Customer(
                first_name=f"P{n}",
                email=f"p{n}@example.com",
                state="IL",
                timezone="America/Chicago",
                birth_date=ADULT,
                email_opt_in=True,
                email_opt_in_at=NOON_CHICAGO - timedelta(days=90),
            )
            for n in range(people)
        ]
        session.add_all(members)
        session.flush()
        fill_in_profile(session=session, fields=STORE)
        segment = segments.create_static_segment(session=session, actor=SYSTEM, name="All")
        segments.add_members(
            session=session,
            actor=SYSTEM,
            segment_id=segment.id,
            customer_ids=[p.id for p in members],
            now=NOON_CHICAGO,
        )
        campaign = Campaign(
            name="Holiday wine",
            type="holiday",
            status=CampaignStatus.DRAFT,
            segment_ids=[segment.id],
            channels=["email"],
            holdout_percent=10,
            starts_at=NOON_CHICAGO - timedelta(days=1),
            ends_at=NOON_CHICAGO + timedelta(days=10),
        )
        campaign.steps.append(
            CampaignStep(
                position=1,
                day=STEP_DAY,
                local_time="10:00",
                segment_id=segment.id,
                channel="email",
                offer_kind="percent_off",
                offer_value=15,
                offer_category="wine",
                offer_description="15% off a mixed case",
                angle="Stock up",
                expected_reach=people,
            )
        )
        session.add(campaign)
        session.flush()
        step = campaign.steps[0]
        test = abtests.save_test(
            session=session,
            actor=SYSTEM,
            step_id=step.id,
            spec=abtests.TestSpec(
                variants=(
                    abtests.VariantSpec(),
                    b or abtests.VariantSpec(subject=B_SUBJECT, offer_value=20),
                ),
                **{"baseline_rate": 0.1, "min_effect": 0.2, **spec},
            ),
            now=NOON_CHICAGO,
        )
        campaign.status = CampaignStatus.RUNNING
        return {"campaign": campaign.id, "step": step.id, "test": test.id}


def written_messages() -> list[Message]:
    with session_scope(read_only=True) as session:
        return list(session.scalars(select(Message).order_by(Message.id)))


def click_and_buy(*, clicked: dict[int, float], bought: dict[int, float]) -> None:
    """Make each variant's first `share` of recipients click (and buy $40 the next day)."""
    with session_scope() as session:
        sent = session.scalars(
            select(Message).where(Message.variant.is_not(None)).order_by(Message.id)
        ).all()
        by_variant: dict[int, list[Message]] = {}
        for message in sent:
            by_variant.setdefault(message.variant or 0, []).append(message)
        for variant, mine in by_variant.items():
            for message in mine[: round(len(mine) * clicked.get(variant, 0))]:
                message.clicked_at = NOON_CHICAGO + timedelta(hours=1)
            for n, message in enumerate(mine[: round(len(mine) * bought.get(variant, 0))]):
                session.add(
                    Order(
                        external_id=f"o-{message.id}",
                        customer_id=message.customer_id,
                        ordered_at=NOON_CHICAGO + timedelta(days=1),
                        total_cents=4000 + n % 2 * 1000,
                    )
                )


def sent_short_of_its_sample() -> dict[str, int]:
    """A tested step sent with B far ahead, sized to detect 5 points: about 700 recipients a
    variant, more than there are."""
    ids = build_tested_campaign(min_effect=0.05)
    with sending() as (_, sender):
        send_all(sender)
    click_and_buy(clicked={0: 0.1, 1: 0.4}, bought={})
    return ids


@pytest.mark.slow
@pytest.mark.both_databases
def test_a_tested_step_splits_its_audience_and_sends_each_variant_its_own(
    database: str, providers: tuple[Any, Any]
) -> None:
    mailgun, _ = providers
    ids = build_tested_campaign()
    with sending() as (_, sender):
        send_all(sender)
    written = written_messages()
    held = [m for m in written if m.status == MessageStatus.HELD_OUT]
    sent = [m for m in written if m.status == MessageStatus.SENT]
    assert len(held) + len(sent) == PEOPLE and 30 < len(held) < 90
    assert {m.variant for m in held} == {None}
    counts = Counter(m.variant for m in sent)
    assert set(counts) == {0, 1} and abs(counts[0] - counts[1]) < 80
    for message in sent:  # the hash, so every retry and resend finds the same variant
        assert message.variant == abtests.variant_for(ids["test"], message.customer_id, [50, 50])
    subjects = {f["to"][0]: (f["subject"][0], f["text"][0]) for f in mailgun.accepted}
    b = next(m for m in sent if m.variant == 1)
    a = next(m for m in sent if m.variant == 0)
    b_number = b.to_address.split("@")[0][1:]
    assert subjects[b.to_address][0] == f"Last call, P{b_number}: 20% off wine"
    assert "15% off a mixed case" in subjects[a.to_address][1]
    assert "20% off wine" in subjects[b.to_address][1]

    with session_scope() as session:  # written again: nothing new, nobody moved
        step = session.get_one(CampaignStep, ids["step"])
        zone = get_store_profile(session=session).zone
        outbox.queue_step(session=session, step=step, now=NOON_CHICAGO, store_zone=zone)
    assert [(m.id, m.variant) for m in written_messages()] == [(m.id, m.variant) for m in written]


@pytest.mark.slow
@pytest.mark.both_databases
def test_results_are_measured_and_judged_only_at_the_horizon(
    database: str, providers: tuple[Any, Any]
) -> None:
    ids = build_tested_campaign()
    with sending() as (_, sender):
        send_all(sender)
    click_and_buy(clicked={0: 0.1, 1: 0.4}, bought={0: 0.05, 1: 0.2})
    with session_scope() as session:
        test = abtests.get_test(session=session, test_id=ids["test"])
        results = abtests.test_results(session=session, test=test)
    a, b = results.variants
    sent = Counter(m.variant for m in written_messages() if m.status == MessageStatus.SENT)
    assert (a.recipients, b.recipients) == (sent[0], sent[1])
    assert (a.clicks, b.clicks) == (round(sent[0] * 0.1), round(sent[1] * 0.4))
    assert (a.conversions, b.conversions) == (round(sent[0] * 0.05), round(sent[1] * 0.2))
    bought_b = round(sent[1] * 0.2)
    assert b.revenue_cents == 4000 * bought_b + 1000 * (bought_b // 2)
    assert results.sample_reached and results.leader() == 1
    assert results.needed == abtests.sample_size(0.1, 0.2, 0.95)

    too_soon = NOON_CHICAGO + timedelta(hours=47)
    assert "waiting" in results.verdict(too_soon)
    with session_scope() as session:
        assert abtests.waiting_for_judgement(session=session, now=too_soon) == []
        assert abtests.judge(session=session, test_id=ids["test"], now=too_soon).status == (
            TestStatus.RUNNING
        )
    later = NOON_CHICAGO + timedelta(hours=49)
    with session_scope() as session:
        assert abtests.waiting_for_judgement(session=session, now=later) == [ids["test"]]
        test = abtests.judge(session=session, test_id=ids["test"], now=later)
        assert (test.status, test.winner, test.decided_by) == (TestStatus.DECIDED, 1, None)
        points = (b.clicks / b.recipients - a.clicks / a.recipients) * 100
        assert test.decision.startswith(
            f"B wins with 95% confidence: {points:+.1f} pts click rate, +$"
        )
        assert test.decision.endswith("(p < 0.001; an over 99% chance it is really better).")


@pytest.mark.slow
def test_no_winner_is_declared_from_noise_or_before_the_sample(
    database: str, providers: tuple[Any, Any]
) -> None:
    ids = sent_short_of_its_sample()
    later = NOON_CHICAGO + timedelta(days=5)
    with session_scope() as session:
        test = abtests.judge(session=session, test_id=ids["test"], now=later)
        assert test.status == TestStatus.RUNNING, "B is far ahead, but the sample is not in"
        results = abtests.test_results(session=session, test=test)
        assert results.verdict(later).startswith("Not decided yet:")
        session.execute(update(ABTest).values(sample_per_variant=200, min_effect=0.2))
    with session_scope() as session:  # the same clicks in both: chance
        session.execute(update(Message).values(clicked_at=None))
    click_and_buy(clicked={0: 0.12, 1: 0.13}, bought={})
    with session_scope() as session:
        test = abtests.judge(session=session, test_id=ids["test"], now=later)
        assert (test.status, test.winner) == (TestStatus.INCONCLUSIVE, None)
        assert test.decision.startswith("No winner at 95% confidence: B against A")


@pytest.mark.slow
@pytest.mark.both_databases
def test_the_winner_reaches_the_rest_once_though_workers_die_on_the_way(
    database: str, providers: tuple[Any, Any]
) -> None:
    mailgun, _ = providers
    ids = build_tested_campaign(test_percent=20)
    with sending() as (_, sender):
        send_all(sender)
    first = written_messages()
    in_test = [m for m in first if m.variant is not None]
    assert 60 < len(in_test) < 160, "a fifth of the 90 % not held out"
    assert all(abtests.in_test(ids["test"], m.customer_id, 20) for m in in_test)

    marketer = Actor(user_id=None, email="ann@shop.example.com", role=Role.MARKETER)
    with session_scope() as session:
        assert outbox.queue_rollout(session=session, test_id=ids["test"], now=NOON_CHICAGO) == 0
        abtests.choose_winner(
            session=session, actor=marketer, test_id=ids["test"], position=1, now=NOON_CHICAGO
        )
    with pytest.raises(RuntimeError), session_scope() as session:  # killed before its commit
        assert outbox.queue_rollout(session=session, test_id=ids["test"], now=NOON_CHICAGO) > 0
        raise RuntimeError("worker killed")
    later = NOON_CHICAGO + timedelta(hours=2)
    with session_scope() as session:
        written = outbox.queue_rollout(session=session, test_id=ids["test"], now=later)
    with session_scope() as session:  # a second worker on the same job: nothing to do
        assert outbox.queue_rollout(session=session, test_id=ids["test"], now=later) == 0
        test = abtests.get_test(session=session, test_id=ids["test"])
        assert test.status == TestStatus.ROLLED_OUT
        assert test.decision.startswith(
            "B chosen by ann@shop.example.com before the test reached its planned sample."
        )
    rest = [m for m in written_messages() if m.id not in {f.id for f in first}]
    assert len(rest) == written == PEOPLE - len(first)
    assert {m.variant for m in rest} == {1}

    doomed = make_sender(Clock(later))  # dies recording what the provider took
    doomed.unit_of_work = dies_on_opening(3)
    with pytest.raises(RuntimeError):
        doomed.send_batch(rest[0].channel, 50)
    doomed.close()
    lease = timedelta(seconds=get_settings().send_claim_lease_seconds + 1)
    with session_scope() as session:
        session.execute(
            update(Message).where(Message.status == "sending").values(claimed_at=utc_now() - lease)
        )
    with session_scope() as session:
        settled = outbox.release_stale_claims(
            session=session, find=find_at_provider(get_settings()), now=utc_now()
        )
    assert settled == 50
    with sending(later) as (_, sender):
        send_all(sender)
    to = Counter(f["to"][0] for f in mailgun.accepted)
    assert max(to.values()) == 1, "nobody got two"
    unsent = [
        (m.id, m.status, m.send_after, m.error)
        for m in written_messages()
        if m.status not in (MessageStatus.SENT, MessageStatus.HELD_OUT)
    ]
    assert not unsent, f"never sent: {unsent}"  # (said in full: CI once saw one short, shifted)
    assert len(to) == PEOPLE - sum(m.status == MessageStatus.HELD_OUT for m in written_messages())


def test_a_test_is_checked_before_it_is_saved(database: str) -> None:
    ids = build_tested_campaign()
    with session_scope() as session:
        session.execute(update(Campaign).values(status=CampaignStatus.DRAFT))
    cases = [
        ((abtests.VariantSpec(), abtests.VariantSpec()), "Variant B sends the same as A"),
        ((abtests.VariantSpec(), abtests.VariantSpec(channel="sms")), "does not send by sms"),
        ((abtests.VariantSpec(),), "A test has 2 to 4 variants"),
        ((abtests.VariantSpec(), abtests.VariantSpec(local_time="25:00")), "must be HH:MM"),
        ((abtests.VariantSpec(), abtests.VariantSpec(weight=0, subject="x")), "weight must be"),
        (
            (abtests.VariantSpec(), abtests.VariantSpec(subject="Spring break: bottomless rosé")),
            'Variant B, subject: "Spring break" appeals to people under 21: not allowed',
        ),
    ]
    for variants, error in cases:
        with pytest.raises(ValidationError, match=error), session_scope() as session:
            abtests.save_test(
                session=session,
                actor=SYSTEM,
                step_id=ids["step"],
                spec=abtests.TestSpec(variants=variants),
                now=NOON_CHICAGO,
            )
    with session_scope() as session:  # edited again as saved: the same variants, B by its changes
        test = abtests.test_of_step(session=session, step_id=ids["step"])
        assert test is not None
        before = [(v.subject, v.offer_value, v.offer_description) for v in test.variants]
        spec = abtests.spec_of(test)
        assert spec.variants[1].subject == B_SUBJECT and spec.variants[1].local_time is None
        again = abtests.save_test(
            session=session, actor=SYSTEM, step_id=ids["step"], spec=spec, now=NOON_CHICAGO
        )
        assert [(v.subject, v.offer_value, v.offer_description) for v in again.variants] == before
    with session_scope() as session:
        sizing = abtests.step_sizing(
            session=session,
            step_id=ids["step"],
            spec=abtests.TestSpec(baseline_rate=0.03, min_effect=0.01),
            now=NOON_CHICAGO,
        )
    assert (sizing.needed, sizing.available) == (5301, 270)
    assert sizing.sentence.startswith("Needs 5,301 recipients per variant; this step reaches")
    assert "can only detect a change of 5.6 pts or more" in sizing.sentence
    with session_scope() as session:
        session.execute(update(Campaign).values(status=CampaignStatus.RUNNING))
    with pytest.raises(Conflict, match="only drafts can change"), session_scope() as session:
        abtests.remove_test(session=session, actor=SYSTEM, step_id=ids["step"])


def test_the_command_line_shows_the_results_and_chooses_the_winner(
    database: str, providers: tuple[Any, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    ids = build_tested_campaign(test_percent=50, min_effect=0.05)  # a sample out of reach
    with sending() as (_, sender):
        send_all(sender)
    click_and_buy(clicked={0: 0.1, 1: 0.3}, bought={1: 0.1})
    assert main(["abtests", "--campaign", str(ids["campaign"]), "--json"]) == 0
    [shown] = json.loads(capsys.readouterr().out)
    a, b = shown["variants"]
    assert (shown["status"], shown["winner"], shown["test_percent"]) == ("running", None, 50)
    # Results count the messages sent (one the fake provider was too slow for, on a loaded
    # machine, waits for its retry and is not a recipient yet).
    assert a["recipients"] + b["recipients"] == len(
        [m for m in written_messages() if m.variant is not None and m.sent_at is not None]
    )
    assert b["clicks"] == round(b["recipients"] * 0.3)
    assert shown["against_a"][0]["name"] == "B" and shown["against_a"][0]["p_value"] < 0.05
    assert shown["verdict"].startswith("Not decided yet:")

    assert main(["abtest-choose", "--test", str(ids["test"]), "--variant", "b", "--json"]) == 0
    chosen = json.loads(capsys.readouterr().out)
    assert (chosen["status"], chosen["winner"]) == ("rolled_out", "B")
    assert chosen["messages_written"] > 150
    assert main(["abtest-choose", "--test", str(ids["test"]), "--variant", "A"]) == 2
    assert "already sent to the rest" in capsys.readouterr().err
    assert main(["abtest-choose", "--test", str(ids["test"]), "--variant", "7"]) == 2


@pytest.mark.slow
def test_a_test_cut_short_by_its_campaigns_end_names_no_winner(
    database: str, providers: tuple[Any, Any]
) -> None:
    ids = sent_short_of_its_sample()
    later = NOON_CHICAGO + timedelta(days=5)
    with session_scope() as session:
        assert abtests.waiting_for_judgement(session=session, now=later) == []
        session.execute(update(Campaign).values(status=CampaignStatus.COMPLETED))
    with session_scope() as session:
        assert abtests.waiting_for_judgement(session=session, now=later) == [ids["test"]]
        test = abtests.judge(session=session, test_id=ids["test"], now=later)
        assert (test.status, test.winner) == (TestStatus.INCONCLUSIVE, None)
        assert test.decision.startswith("No winner: the campaign ended with ")


@pytest.mark.slow
def test_the_clock_starts_the_job_that_decides_tests(
    database: str, providers: tuple[Any, Any]
) -> None:
    ids = sent_short_of_its_sample()
    with session_scope() as session:
        session.execute(update(Campaign).values(status=CampaignStatus.COMPLETED))
    started = clock.tick(NOON_CHICAGO + timedelta(days=5))
    jobs = [queue.wait_for(job_id, timeout=60) for job_id in started]
    deciding = [job for job in jobs if job.kind == tasks.decide_tests.kind]
    assert [job.status for job in deciding] == [JobStatus.SUCCEEDED]
    with session_scope(read_only=True) as session:
        assert abtests.get_test(session=session, test_id=ids["test"]).status == "inconclusive"


@pytest.mark.slow
def test_on_the_demo_a_test_runs_in_test_mode_with_simulated_engagement_to_a_winner(
    database: str,
) -> None:
    """No provider: the sandbox takes the sends; the demo's simulated recipients open and click
    as its stated model says (B greets them by name and offers 30 % off, A 15 % off)."""
    ids = build_tested_campaign(
        people=1500,
        b=abtests.VariantSpec(subject=B_SUBJECT, offer_value=30),
        baseline_rate=0.04,
        min_effect=0.05,
        wait_hours=1,
    )
    with session_scope() as session:
        simulation.simulate_engagement(session=session)
    with sending() as (_, sender):
        send_all(sender)
    sent = [m for m in written_messages() if m.status == MessageStatus.SENT]
    assert {m.provider for m in sent} == {"sandbox"} and len(sent) > 1200
    soon = NOON_CHICAGO + timedelta(minutes=30)
    with session_scope() as session:
        early = simulation.apply_due_engagement(session=session, now=soon)
        results = abtests.test_results(
            session=session, test=abtests.get_test(session=session, test_id=ids["test"])
        )
        assert results.verdict(soon).startswith("Sample reached; waiting 1 more hours")
    later = NOON_CHICAGO + timedelta(hours=8)
    with session_scope() as session:
        rest = simulation.apply_due_engagement(session=session, now=later)
    with session_scope() as session:
        assert simulation.apply_due_engagement(session=session, now=later) == 0, "once"
        test = abtests.judge(session=session, test_id=ids["test"], now=later)
        results = abtests.test_results(session=session, test=test)
    a, b = results.variants
    assert early > len(sent) and rest > 0, "every delivery by then; opens and clicks trickle in"
    assert b.clicks / b.recipients > 1.5 * a.clicks / a.recipients
    assert (test.status, test.winner) == (TestStatus.DECIDED, 1)
    assert test.decision.startswith("B wins with 95% confidence")
    with session_scope(read_only=True) as session:
        simulated = session.scalars(select(Event.data).where(Event.type == "email.clicked")).all()
    assert len(simulated) == a.clicks + b.clicks and all(d.get("simulated") for d in simulated)
