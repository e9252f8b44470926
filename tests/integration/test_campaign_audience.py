"""Whom a running campaign messages: everyone reachable in its segments less the customers staff
skipped, or only the approved actions, each with its personal offer and the step's chosen
template; and what became of each action. On SQLite and PostgreSQL, through the sender and the
fake Mailgun."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from core.campaigns import actions
from core.db import session_scope
from core.messaging import templates
from core.models import Action, ActionStatus, Audience, Campaign, CampaignStep, Channel
from core.permissions import SYSTEM
from tests.integration.conftest import (
    NOON_CHICAGO,
    by_customer,
    mailgun_event,
    messages,
    send_queued,
)

DAY_BEFORE = NOON_CHICAGO - timedelta(days=1)


def prepare_actions(campaign_id: int) -> dict[int, Action]:
    """A run of actions for the campaign, by customer id."""
    with session_scope() as session:
        run = actions.generate_actions(
            session=session, actor=SYSTEM, campaign_id=campaign_id, now=DAY_BEFORE
        )
    with session_scope(read_only=True) as session:
        listed = actions.list_actions(
            session=session, filters=actions.ActionFilter(run_id=run.run_id)
        )
        return {customer.id: action for action, customer in listed}


def decide(action_ids: list[int], to: ActionStatus) -> None:
    with session_scope() as session:
        actions.decide(
            session=session, actor=SYSTEM, action_ids=action_ids, status=to, now=DAY_BEFORE
        )


def custom_email_template() -> int:
    with session_scope() as session:
        return templates.save_template(
            session=session,
            actor=SYSTEM,
            draft=templates.Draft(
                name="Cellar club note",
                channel=Channel.EMAIL,
                campaign_type="holiday",
                subject="{{ first_name }}, a note from the cellar",
                body_html="<p>Dear {{ first_name }}: {{ offer.description }}.</p>"
                "<p>{{ store.address }} · <a href='{{ unsubscribe_url }}'>Unsubscribe</a></p>",
            ),
        ).id


def set_campaign(campaign_id: int, **values: Any) -> None:
    with session_scope() as session:
        campaign = session.get(Campaign, campaign_id)
        assert campaign is not None
        for name, value in values.items():
            setattr(campaign, name, value)


def action_of(action_id: int) -> Action:
    with session_scope(read_only=True) as session:
        found = session.get(Action, action_id)
        assert found is not None
        return found


@pytest.mark.both_databases
def test_approved_actions_only_sends_exactly_those_with_the_chosen_template(
    shop: dict[str, int], providers: tuple[Any, Any]
) -> None:
    mailgun, _ = providers
    template_id = custom_email_template()
    with session_scope() as session:
        for step in session.scalars(select(CampaignStep)):
            if step.channel == Channel.EMAIL:
                step.template_id = template_id
    set_campaign(shop["campaign"], audience=Audience.APPROVED)
    by_person = prepare_actions(shop["campaign"])
    emailed = {shop[n]: by_person[shop[n]] for n in ("ana", "bob", "dee")}
    assert all(a.channel == Channel.EMAIL for a in emailed.values())
    decide([emailed[shop["ana"]].id, emailed[shop["bob"]].id], ActionStatus.APPROVED)
    decide([emailed[shop["dee"]].id], ActionStatus.SKIPPED)

    send_queued()
    assert sorted(mailgun.recipients("to")) == ["ana@example.com", "bob@example.com"]
    ana = next(f for f in mailgun.accepted if f["to"] == ["ana@example.com"])
    assert ana["subject"] == ["Ana, a note from the cellar"]
    # The action's personal offer, not the step's.
    personal = emailed[shop["ana"]].offer_description
    assert f"Dear Ana: {personal}." in ana["html"][0]
    sent = by_customer(shop)
    assert {key for key in sent} == {("ana", "email"), ("bob", "email")}
    assert sent["ana", "email"].action_id == emailed[shop["ana"]].id

    # Sent is not done: the action is done when its message is delivered; a click is its outcome.
    assert action_of(emailed[shop["ana"]].id).status == ActionStatus.APPROVED
    for kind in ("delivered", "clicked"):
        mailgun_event(sent["ana", "email"], kind)
    done = action_of(emailed[shop["ana"]].id)
    assert (done.status, done.outcome, done.done_at) == (ActionStatus.DONE, "clicked", NOON_CHICAGO)
    assert action_of(emailed[shop["dee"]].id).status == ActionStatus.SKIPPED


@pytest.mark.both_databases
def test_an_action_approved_after_its_step_was_written_still_gets_its_message(
    shop: dict[str, int],
) -> None:
    set_campaign(shop["campaign"], audience=Audience.APPROVED)
    by_person = prepare_actions(shop["campaign"])
    decide([by_person[shop["ana"]].id], ActionStatus.APPROVED)
    send_queued()
    assert [m.customer_id for m in messages()] == [shop["ana"]]
    # In test mode (the sandbox) nothing is delivered: sent is as far as it goes, and says so.
    assert action_of(by_person[shop["ana"]].id).outcome == "sent in test mode"

    decide([by_person[shop["bob"]].id], ActionStatus.APPROVED)
    send_queued()
    assert sorted(m.customer_id for m in messages()) == sorted([shop["ana"], shop["bob"]])


@pytest.mark.both_databases
def test_everyone_in_the_segments_but_whoever_staff_skipped(shop: dict[str, int]) -> None:
    by_person = prepare_actions(shop["campaign"])
    decide([by_person[shop["bob"]].id], ActionStatus.SKIPPED)
    send_queued()
    assert set(by_customer(shop)) == {
        ("ana", "email"),
        ("dee", "email"),
        ("eve", "email"),
        ("ana", "sms"),
        ("eve", "sms"),
    }
    assert all(m.action_id is None for m in messages())


@pytest.mark.both_databases
def test_staff_mark_an_approved_call_done_but_not_a_proposed_one(shop: dict[str, int]) -> None:
    by_person = prepare_actions(shop["campaign"])
    approved, proposed = by_person[shop["ana"]].id, by_person[shop["bob"]].id
    decide([approved], ActionStatus.APPROVED)
    decide([approved, proposed], ActionStatus.DONE)
    assert (action_of(approved).status, action_of(approved).outcome) == (
        ActionStatus.DONE,
        actions.DONE_BY_STAFF,
    )
    assert action_of(proposed).status == ActionStatus.PROPOSED
