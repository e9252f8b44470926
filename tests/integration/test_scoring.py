"""Scoring on SQLite and PostgreSQL: RFM, predictions, holdout check, as-of, fallbacks."""

import csv
import io
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from core import demo, scoring
from core.customers.exports import export_customers
from core.db import session_scope
from core.errors import PermissionDenied, ValidationError
from core.models import Customer, Event, Order
from core.permissions import SYSTEM, Actor, Role
from core.store_profile import get_store_profile
from tests.moments import NOW, TODAY


def load_store() -> None:
    demo.load_demo(
        unit_of_work=session_scope, actor=SYSTEM, today=TODAY, customers=600, seed=4, now=NOW
    )


@pytest.fixture
def demo_store(database: str, built_store: Callable[..., None]) -> str:
    """An unscored 600-customer demo store."""
    built_store("unscored-600", load_store)
    return database


def score(**kwargs: object) -> scoring.ScoringSummary:
    return scoring.score_customers(unit_of_work=session_scope, actor=SYSTEM, now=NOW, **kwargs)


@pytest.mark.both_databases
def test_scores_every_customer_and_checks_itself(demo_store: str) -> None:
    result = score(as_of=TODAY)
    assert result.model == "bg/nbd + gamma-gamma" and not result.note
    assert set(result.bgnbd) == {"r", "alpha", "a", "b"} and set(result.gamma_gamma) == {
        "p",
        "q",
        "v",
    }
    assert result.holdout["revenue_error"] < 0.35  # the 5,000-customer demo: see the closing note
    with session_scope() as session:
        rows = session.scalars(select(Customer)).all()
        buyers = [c for c in rows if c.order_count]
        assert result.customers_scored == len(buyers)
        assert all(
            1 <= c.r_score <= 5 and 1 <= c.f_score <= 5 and 1 <= c.m_score <= 5 for c in buyers
        )
        assert {c.rfm_segment for c in buyers} <= set(scoring.RFM_SEGMENT_NAMES)
        assert {c.rfm_segment for c in rows if not c.order_count} <= {scoring.NO_PURCHASES}
        assert all(c.churn_risk in ("low", "medium", "high") for c in buyers)
        # P(alive) is the model's for repeat buyers; for one purchase day it says nothing.
        assert all(
            (0 <= c.p_alive <= 1) if c.days_between_orders is not None else c.p_alive is None
            for c in buyers
        )
        # The churn band never contradicts the RFM name on one profile.
        for c in buyers:
            lowest, highest = scoring.RFM_BOUNDS.get(c.rfm_segment, ("low", "high"))
            bands = ("low", "medium", "high")
            assert bands.index(lowest) <= bands.index(c.churn_risk) <= bands.index(highest), c
        assert {c.churn_risk for c in buyers if c.rfm_segment == "Lost"} <= {"high"}
        assert result.typical_gap_days and 5 < result.typical_gap_days < 120
        assert all(c.predicted_clv_cents >= 0 and c.preferred_category for c in buyers)
        repeaters = [c for c in buyers if c.order_count > 3]
        assert all(c.days_between_orders > 0 and c.next_order_expected_on for c in repeaters)
        # Best customers by RFM are worth more than lapsed ones, by the model too.
        value = {
            name: [c.predicted_clv_cents for c in buyers if c.rfm_segment == name]
            for name in ("Champions", "Lost")
        }
        assert sum(value["Champions"]) / len(value["Champions"]) > 5 * (
            sum(value["Lost"]) / max(len(value["Lost"]), 1)
        )
        assert (
            session.scalar(select(func.count(Event.id)).where(Event.type == "scores_refreshed"))
            == 1
        )
        assert scoring.last_model(session=session).as_of == TODAY.isoformat()


@pytest.mark.both_databases
def test_as_of_makes_scores_reproducible(demo_store: str) -> None:
    first = score(as_of=date(2026, 9, 30), horizon_days=90)
    with session_scope() as session:
        before = {
            c.id: (c.rfm_segment, c.predicted_clv_cents) for c in session.scalars(select(Customer))
        }
    again = score(as_of=date(2026, 9, 30), horizon_days=90)
    with session_scope() as session:
        after = {
            c.id: (c.rfm_segment, c.predicted_clv_cents) for c in session.scalars(select(Customer))
        }
    assert before == after and first.bgnbd == again.bgnbd
    with session_scope() as session:
        later_buyers = session.scalar(
            select(func.count(func.distinct(Order.customer_id))).where(
                Order.ordered_at < datetime(2026, 10, 1, 5, tzinfo=UTC)
            )
        )
    assert first.customers_scored == later_buyers, "orders after the as-of day are ignored"


@pytest.mark.both_databases
def test_thin_history_falls_back_to_rfm(database: str) -> None:
    with session_scope() as session:
        for i in range(30):
            customer = Customer(email=f"one{i}@example.com", first_name="One")
            session.add(customer)
            session.flush()
            session.add(
                Order(
                    customer_id=customer.id,
                    total_cents=1000 + i,
                    ordered_at=datetime(2026, 10, 1 + i % 20, 18, tzinfo=UTC),
                )
            )
    result = score(as_of=TODAY)
    assert result.model == "rfm only" and "more history" in result.note
    with session_scope() as session:
        one = session.scalars(select(Customer)).first()
        assert one.rfm_segment and one.p_alive is None and one.predicted_clv_cents is None


@pytest.mark.both_databases
def test_nothing_to_score_is_a_clear_error(database: str) -> None:
    with pytest.raises(ValidationError, match="no orders"):
        score(as_of=TODAY)
    with pytest.raises(ValidationError, match="horizon"):
        score(horizon_days=0)
    viewer = Actor(user_id=None, email="v@example.com", role=Role.VIEWER)
    with pytest.raises(PermissionDenied):
        scoring.score_customers(unit_of_work=session_scope, actor=viewer, now=NOW)


def test_export_carries_the_scores(demo_store: str) -> None:
    score(as_of=TODAY)
    out = io.StringIO()
    export_customers(unit_of_work=session_scope, actor=SYSTEM, out=out, today=TODAY)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    for column in ("rfm_segment", "p_alive", "churn_risk", "expected_orders", "predicted_clv"):
        assert column in rows[0]
    assert any(row["churn_risk"] == "high" for row in rows) or any(row["p_alive"] for row in rows)


@pytest.mark.both_databases
def test_scores_are_as_of_the_latest_order_day_by_default(demo_store: str) -> None:
    with session_scope() as session:
        newest = session.scalar(select(func.max(Order.ordered_at)))
        zone = get_store_profile(session=session).zone
    later = newest + timedelta(days=3)
    result = scoring.score_customers(unit_of_work=session_scope, actor=SYSTEM, now=later)
    assert result.as_of == newest.astimezone(zone).date().isoformat()
