"""Deciding a test: declared by the statistics once the fixed horizon is reached, or chosen by
a marketer at any time (said so in the decision). A decided test whose step kept part of its
audience back sends that part the winner (`messaging.outbox.queue_rollout`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.abtests.design import locked_test
from core.abtests.results import ENDED, test_results
from core.errors import Conflict, ValidationError
from core.infra import audit, events
from core.models import ABTest, Campaign, TestStatus
from core.permissions import Actor, Permission, authorize


def judge(*, session: Session, test_id: int, now: datetime) -> ABTest:
    """Declare the winner of a running test whose horizon is reached, or call it inconclusive
    (so too when its campaign ended before the sample was in); a test not ready yet, or decided
    already, is left as it is."""
    test = locked_test(session=session, test_id=test_id)
    if test.status != TestStatus.RUNNING:
        return test
    results = test_results(session=session, test=test)
    ended = session.get_one(Campaign, test.campaign_id).status in ENDED
    if not results.judgeable(now) and not (ended and not results.sample_reached):
        return test
    leader = results.leader() if results.sample_reached else None
    test.decision = results.verdict(now) if results.sample_reached else results.cut_short()
    test.decided_at = now
    if leader is None:
        test.status = TestStatus.INCONCLUSIVE
    else:
        test.status, test.winner = TestStatus.DECIDED, leader
    events.record(
        session=session,
        type="abtest.decided",
        campaign_id=test.campaign_id,
        occurred_at=now,
        data={"test_id": test.id, "winner": test.winner, "decision": test.decision},
    )
    return test


def choose_winner(
    *, session: Session, actor: Actor, test_id: int, position: int, now: datetime
) -> ABTest:
    """A marketer's choice of winner, before the horizon or after an inconclusive result (a
    declared winner can be overruled until it was rolled out)."""
    authorize(actor, Permission.RUN_CAMPAIGNS)
    test = locked_test(session=session, test_id=test_id)
    if test.status == TestStatus.ROLLED_OUT:
        raise Conflict("The winner was already sent to the rest of the audience.")
    if not 0 <= position < len(test.variants):
        raise ValidationError(f"The test has no variant {chr(ord('A') + position)}.")
    results = test_results(session=session, test=test)
    name = chr(ord("A") + position)
    early = "" if results.judgeable(now) else " before the test reached its planned sample"
    test.status, test.winner = TestStatus.DECIDED, position
    test.decided_by, test.decided_at = actor.user_id, now
    test.decision = f"{name} chosen by {actor.email}{early}. {results.verdict(now)}"
    audit.record(
        session=session,
        actor=actor,
        action="abtest.choose",
        entity_type="campaign",
        entity_id=test.campaign_id,
        changes={"test_id": test.id, "winner": name},
    )
    return test


def waiting_rollouts(*, session: Session) -> list[int]:
    """Decided tests whose rest of the audience has not been sent the winner yet."""
    return list(
        session.scalars(
            select(ABTest.id).where(ABTest.status == TestStatus.DECIDED, ABTest.test_percent < 100)
        )
    )
