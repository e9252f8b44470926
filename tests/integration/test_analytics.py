from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert
from sqlalchemy.orm import Session

from core import analytics, compliance
from core.models import Channel, ContactStatus, Customer, Order, OrderItem

CHICAGO = ZoneInfo("America/Chicago")
TODAY = date(2026, 11, 26)  # a Thursday


def add_order(
    session: Session, customer_id: int, at: datetime, cents: int, category: str = "wine"
) -> None:
    order_id = session.execute(
        insert(Order)
        .values(customer_id=customer_id, ordered_at=at, total_cents=cents)
        .returning(Order.id)
    ).scalar_one()
    session.execute(
        insert(OrderItem).values(
            order_id=order_id, category=category, unit_price_cents=cents, line_total_cents=cents
        )
    )


def customer(session: Session, **fields: object) -> int:
    row = Customer(**{"first_name": "A", "created_at": datetime(2026, 1, 1, tzinfo=UTC)} | fields)
    session.add(row)
    session.flush()
    return row.id


@pytest.mark.both_databases
def test_overview_counts_the_window_in_store_time(session: Session) -> None:
    adult = date(1980, 5, 1)
    a = customer(session, email="a@example.com", email_opt_in=True, birth_date=adult)
    b = customer(
        session,
        phone="+13125550101",
        sms_opt_in=True,
        birth_date=adult,
        created_at=datetime(2026, 11, 20, tzinfo=UTC),
    )
    c = customer(
        session,
        email="c@example.com",
        email_opt_in=True,
        birth_date=adult,
        email_status=ContactStatus.SUPPRESSED,
    )
    # Opted in, but 20: reachable by nobody, as the campaign builder counts it.
    d = customer(session, email="d@example.com", email_opt_in=True, birth_date=date(2006, 6, 1))
    customer(session, deleted_at=datetime(2026, 11, 1, tzinfo=UTC))
    # 23:30 in Chicago on Nov 26 is 05:30 UTC on Nov 27: still "today" for the store.
    add_order(session, a, datetime(2026, 11, 27, 5, 30, tzinfo=UTC), 5000)
    add_order(session, b, datetime(2026, 11, 1, 12, tzinfo=UTC), 3000)
    # 00:30 Chicago on Oct 28 is the first minute of the 30-day window (Oct 28 – Nov 26).
    add_order(session, a, datetime(2026, 10, 28, 5, 30, tzinfo=UTC), 1000)
    add_order(session, a, datetime(2026, 10, 28, 4, 30, tzinfo=UTC), 700)  # previous window
    add_order(session, b, datetime(2026, 11, 27, 6, 30, tzinfo=UTC), 9999)  # tomorrow: ignored
    session.flush()

    o = analytics.overview(session=session, today=TODAY, zone=CHICAGO)
    assert (o.orders, o.revenue_cents, o.active_customers) == (3, 9000, 2)
    assert (o.orders_before, o.revenue_before_cents) == (1, 700)
    assert o.average_order_cents == 3000
    assert o.average_order_change == pytest.approx(3000 / 700 - 1)
    assert round(o.revenue_change, 4) == round(9000 / 700 - 1, 4)
    assert (o.customers, o.new_customers, o.email_reachable, o.sms_reachable) == (4, 1, 1, 1)
    # The customer list and profile say "Email ok" by the very same rule.
    reach = compliance.reachable_channels(session=session, customer_ids=[a, b, c, d], today=TODAY)
    assert reach == {a: [Channel.EMAIL], b: [Channel.SMS], c: [], d: []}


@pytest.mark.both_databases
def test_overview_of_an_empty_store(session: Session) -> None:
    o = analytics.overview(session=session, today=TODAY, zone=CHICAGO)
    assert o.orders == o.customers == o.average_order_cents == 0
    assert o.revenue_change is None and o.average_order_change is None


@pytest.mark.both_databases
def test_weekly_revenue_buckets_by_local_monday(session: Session) -> None:
    a = customer(session)
    # Sunday 23:00 Chicago (Monday 05:00 UTC) belongs to the week that began on Monday Nov 16.
    add_order(session, a, datetime(2026, 11, 23, 5, 0, tzinfo=UTC), 4000, "beer")
    add_order(session, a, datetime(2026, 11, 23, 7, 0, tzinfo=UTC), 2500, "beer")  # Monday 01:00
    add_order(session, a, datetime(2026, 11, 24, 18, 0, tzinfo=UTC), 1500, "wine")
    session.flush()
    weekly = analytics.weekly_revenue(session=session, today=TODAY, zone=CHICAGO, weeks=4)
    got = {(str(r.week), r.category): (r.revenue, r.orders) for r in weekly.itertuples()}
    assert got == {
        ("2026-11-16", "Beer"): (40.0, 1),
        ("2026-11-23", "Beer"): (25.0, 1),
        ("2026-11-23", "Wine"): (15.0, 1),
    }
    assert analytics.weekly_revenue(session=session, today=date(2020, 1, 1), zone=CHICAGO).empty
