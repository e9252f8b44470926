"""The dashboard against hand-computed figures on a small fixed store, on both databases: the
key figures and their change, days in the store's time zone, buckets, categories, segments,
cohorts and churn."""

from __future__ import annotations

import csv
import json
import math
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from sqlalchemy import select

from core import analytics, attribution
from core.analytics import Bucket, Period, refresh, report
from core.analytics import cache as analytics_cache
from core.analytics.retention import compute_churn_by_month, compute_cohorts
from core.attribution.lift import Interval, Lift
from core.attribution.revenue import Revenue
from core.attribution.stored import results_from_json, results_to_json
from core.cli import main
from core.customers.totals import refresh_customer_totals
from core.db import session_scope
from core.errors import ValidationError
from core.infra import events
from core.infra.sql import month_index
from core.messaging.monitor import Figures
from core.models import (
    AnalyticsSnapshot,
    Campaign,
    CampaignResult,
    CampaignStatus,
    Customer,
    ImportKind,
    Message,
    MessageStatus,
    Order,
    OrderItem,
    Segment,
    SegmentMember,
)
from core.models.catalog import Category
from tests.conftest import services_required
from tests.integration.conftest import load
from tests.moments import NOW, TODAY

CHICAGO = ZoneInfo("America/Chicago")
PERIOD = Period(date(2026, 11, 11), date(2026, 11, 20))
"""Its previous period is November 1–10."""


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=CHICAGO).astimezone(UTC)


def build_store() -> dict[str, int]:
    """ann  Aug 20 $10; Nov 12 10:00 $50 (wine, $5 off, campaign X's code)
    ben  Nov 5 $30 (beer); Nov 15 $70 (beer); Nov 20 23:30 $20 (Nov 21 in UTC)
    cat  Nov 11 00:30 $40 (spirits; Nov 11 06:30 UTC), her first order
    dan  Aug 15 $10, never again (high churn risk)
    eve  Nov 21 00:30 $999: the day after the period

    Campaign X emailed ann (clicked), ben (who opted out) and cat on Nov 12–13, a cent each;
    one more email went through the sandbox. Segment "Regulars" holds ann and dan; "Empty"
    nobody."""
    with session_scope() as session:
        ids: dict[str, int] = {}
        for name in ("ann", "ben", "cat", "dan", "eve"):
            customer = Customer(first_name=name.title(), email=f"{name}@example.com")
            customer.churn_risk = "high" if name == "dan" else "low"
            session.add(customer)
            session.flush()
            ids[name] = customer.id
        campaign = Campaign(name="X", status=CampaignStatus.COMPLETED)
        session.add(campaign)
        session.flush()
        ids["X"] = campaign.id
        nov = date(2026, 11, 1)

        def order(
            who: str, at: datetime, cents: int, category: Category | None = None, **more: object
        ) -> None:
            placed = Order(customer_id=ids[who], ordered_at=at, total_cents=cents, **more)
            if category:
                placed.items = [
                    OrderItem(category=category, unit_price_cents=cents, line_total_cents=cents)
                ]
            session.add(placed)

        order("ann", local(date(2026, 8, 20), 12), 1_000)
        order(
            "ann",
            local(nov.replace(day=12), 10),
            5_000,
            Category.WINE,
            promo_code="LC-ANN00X",
            discount_cents=500,
        )
        order("ben", local(nov.replace(day=5), 12), 3_000, Category.BEER)
        order("ben", local(nov.replace(day=15), 12), 7_000, Category.BEER)
        order("ben", local(nov.replace(day=20), 23, 30), 2_000)
        order("cat", local(nov.replace(day=11), 0, 30), 4_000, Category.SPIRITS)
        order("dan", local(date(2026, 8, 15), 12), 1_000)
        order("eve", local(nov.replace(day=21), 0, 30), 99_900)

        sent = local(nov.replace(day=12), 9)
        for who, provider, day, extra in (
            ("ann", "mailgun", 12, {"clicked_at": sent + timedelta(minutes=5)}),
            ("ben", "mailgun", 12, {}),
            ("cat", "mailgun", 13, {}),
            ("eve", "sandbox", 13, {}),
        ):
            session.add(
                Message(
                    key=f"X:{who}",
                    campaign_id=ids["X"],
                    customer_id=ids[who],
                    channel="email",
                    status=MessageStatus.DELIVERED,
                    provider=provider,
                    send_after=sent,
                    sent_at=sent.replace(day=day),
                    cost_cents=1.0 if provider == "mailgun" else 0.0,
                    offer_code=f"LC-{who.upper()}00X",
                    **extra,
                )
            )
        session.flush()
        ben_message = session.query(Message).filter_by(key="X:ben").one()
        events.record(
            session=session,
            type="email.opted_out",
            customer_id=ids["ben"],
            message_id=ben_message.id,
            occurred_at=sent + timedelta(hours=1),
        )
        session.flush()
        refresh_customer_totals(
            session=session, customer_ids=[ids[n] for n in ("ann", "ben", "cat", "dan", "eve")]
        )
        for name, members in (("Regulars", ("ann", "dan")), ("Empty", ())):
            segment = Segment(name=name)
            session.add(segment)
            session.flush()
            ids[name] = segment.id
            session.add_all(
                SegmentMember(segment_id=segment.id, customer_id=ids[m]) for m in members
            )
    return ids


def board() -> analytics.Dashboard:
    with session_scope(read_only=True) as session:
        return analytics.dashboard(session=session, period=PERIOD, zone=CHICAGO, now=NOW)


@pytest.mark.both_databases
def test_key_figures_match_the_hand_count(database: str) -> None:
    ids = build_store()
    found = board()
    now, before = found.current, found.previous
    assert (now.revenue_cents, now.orders, now.customers) == (18_000, 4, 3)
    assert (now.returning_customers, now.average_order_cents) == (2, 4_500)
    # ann and dan last ordered Aug 13–22; ann came back, dan did not.
    assert (now.churn_base, now.churned) == (2, 1)
    assert (now.messages_sent, now.sent_in_test_mode, now.clicked, now.unsubscribed) == (3, 1, 1, 1)
    assert [c.id for c in now.campaigns] == [ids["X"]]
    assert now.attributed_cents == 5_000  # ann's order by code; nobody else engaged
    assert now.cost_cents == 3 + 500  # three cents of sending, $5 of discount
    assert now.incremental_cents is None and now.return_cents == 5_000
    assert now.roi == pytest.approx((5_000 - 503) / 503)

    assert (before.revenue_cents, before.orders, before.customers) == (3_000, 1, 1)
    assert (before.returning_customers, before.churn_base, before.messages_sent) == (0, 0, 0)
    assert before.campaigns == ()

    figures = {f.key: f for f in found.figures}
    assert figures["revenue"].change == pytest.approx(18_000 / 3_000 - 1)
    assert figures["repeat_rate"].change == pytest.approx(2 / 3 - 0)
    assert figures["churn_rate"].value == 0.5 and figures["churn_rate"].change is None
    assert figures["click_rate"].value == pytest.approx(1 / 3)
    assert figures["messages_sent"].previous is None
    assert figures["incremental_revenue"].why.startswith("No campaign that started")
    assert figures["attributed_revenue"].previous is None
    assert all(f.why == "" for f in found.figures if f.value is not None)


@pytest.mark.both_databases
def test_both_periods_at_once_give_the_same_figures(database: str) -> None:
    build_store()
    alone = board()
    analytics_cache.forget()
    with session_scope(read_only=True) as session:
        together = analytics.dashboard(
            session=session, period=PERIOD, zone=CHICAGO, now=NOW, unit_of_work=session_scope
        )
    assert together == alone


@pytest.mark.both_databases
def test_trend_categories_and_segments(database: str) -> None:
    ids = build_store()
    with session_scope(read_only=True) as session:
        daily = analytics.revenue_trend(
            session=session, period=PERIOD, zone=CHICAGO, bucket=Bucket.DAY, now=NOW
        )
        weekly = analytics.revenue_trend(
            session=session, period=PERIOD, zone=CHICAGO, bucket=Bucket.WEEK, now=NOW
        )
        categories = analytics.category_revenue(
            session=session, period=PERIOD, zone=CHICAGO, now=NOW
        )
        segments = analytics.segment_performance(
            session=session, period=PERIOD, zone=CHICAGO, now=NOW
        )
    days = dict(zip(daily["start"], daily["revenue_cents"], strict=True))
    assert len(days) == 10 and sum(days.values()) == 18_000
    assert days[date(2026, 11, 11)] == 4_000  # 00:30 in Chicago, not the day before
    assert days[date(2026, 11, 20)] == 2_000  # 23:30 in Chicago, not the day after
    assert days[date(2026, 11, 14)] == 0
    assert list(zip(weekly["start"], weekly["revenue_cents"], strict=True)) == [
        (date(2026, 11, 9), 16_000),
        (date(2026, 11, 16), 2_000),
    ]
    assert categories[["category", "revenue_cents", "previous_cents"]].values.tolist() == [
        ["beer", 7_000, 3_000],
        ["wine", 5_000, 0],
        ["spirits", 4_000, 0],
    ]
    assert categories["share"].sum() == pytest.approx(1)
    rows = segments.set_index("segment_id")
    assert rows.loc[ids["Regulars"], ["members", "buyers", "orders", "revenue_cents"]].tolist() == [
        2,
        1,
        1,
        5_000,
    ]
    assert rows.loc[ids["Regulars"], "revenue_per_member_cents"] == 2_500
    assert rows.loc[ids["Empty"], "members"] == 0
    assert pd.isna(rows.loc[ids["Empty"], "revenue_per_member_cents"])


@pytest.mark.both_databases
def test_cohorts_and_churn(database: str) -> None:
    build_store()
    with session_scope(read_only=True) as session:
        found = analytics.cohorts(session=session, today=TODAY, zone=CHICAGO, now=NOW, months=4)
        churn = analytics.churn_by_month(
            session=session, today=TODAY, zone=CHICAGO, now=NOW, months=4
        )
        at_risk = analytics.churn_by_segment(session=session, today=TODAY, zone=CHICAGO)
    sizes = found.sizes.set_index("cohort")
    assert sizes.loc[date(2026, 8, 1), ["customers", "revenue_cents"]].tolist() == [2, 7_000]
    assert sizes.loc[date(2026, 11, 1), ["customers", "revenue_cents"]].tolist() == [3, 115_900]
    august = found.retention.loc[date(2026, 8, 1)].tolist()
    assert august == [1.0, 0.0, 0.0, 0.5]  # ann came back in November
    november = found.retention.loc[date(2026, 11, 1)].tolist()
    assert november[0] == 1.0 and all(math.isnan(v) for v in november[1:])  # not yet happened
    assert churn["month"].tolist() == [date(2026, m, 1) for m in (8, 9, 10, 11)]
    assert churn["churn_base"].tolist() == [0, 0, 0, 2]
    assert churn["churned"].tolist()[-1] == 1
    assert churn["churn_rate"].isna().tolist() == [True, True, True, False]
    regulars = at_risk.set_index("segment").loc["Regulars"]
    assert regulars[["members", "at_risk", "revenue_at_risk_cents"]].tolist() == [2, 1, 1_000]
    assert pd.isna(at_risk.set_index("segment").loc["Empty", "at_risk_share"])


@pytest.mark.both_databases
def test_a_campaigns_activity(database: str) -> None:
    ids = build_store()
    with session_scope(read_only=True) as session:
        found = analytics.campaign_activity(session=session, campaign_id=ids["X"], zone=CHICAGO)
    daily = found.daily.set_index("day")
    # Sent, delivered, opened, clicked: the fixture records no delivery or open times.
    assert daily.loc[date(2026, 11, 12)].tolist() == [2, 0, 0, 1]
    assert daily.loc[date(2026, 11, 13), "sent"] == 2
    assert found.events[["type", "count"]].values.tolist() == [["email.opted_out", 1]]
    assert found.events["first"][0].tzinfo is not None
    # Its messages came from no step (no segment): one row, with ann's code redeemed.
    assert found.segments.values.tolist() == [["—", 4, 4, 1, 1, 1, 5_000]]


def test_periods_are_checked() -> None:
    with pytest.raises(ValidationError, match="ends"):
        Period(date(2026, 11, 2), date(2026, 11, 1))
    with pytest.raises(ValidationError, match="at most"):
        Period(date(2020, 1, 1), date(2026, 1, 1))
    assert Period.last_days(7, today=TODAY).previous() == Period(
        date(2026, 11, 13), date(2026, 11, 19)
    )
    assert Period.year_to_date(today=TODAY).first == date(2026, 1, 1)


@pytest.mark.both_databases
def test_the_report_as_csv_from_the_command_line(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    build_store()
    out = tmp_path / "november.csv"
    assert main(["report", "--from", "2026-11-11", "--to", "2026-11-20", "--out", str(out)]) == 0
    said = json.loads(capsys.readouterr().out)
    assert (said["format"], said["campaigns"]) == ("csv", ["X"])
    figures = {f["key"]: f for f in said["figures"]}
    assert (figures["revenue"]["value"], figures["revenue"]["previous"]) == (18_000, 3_000)
    assert figures["incremental_revenue"]["why"].startswith("No campaign that started")
    rows = list(csv.reader(out.open(encoding="utf-8")))
    assert rows[0][2:4] == ["2026-11-11 to 2026-11-20", "2026-11-01 to 2026-11-10"]
    # Revenue is measured, not estimated: no margin in the last column.
    assert rows[1] == ["Revenue", "dollars", "180.0", "30.0", "5.0", "", ""]
    day = rows.index(["day", "revenue", "orders"])
    assert rows[day + 1] == ["2026-11-11", "40.0", "1"]
    assert len([r for r in rows[day + 1 :] if r and r[0].startswith("2026-")]) == 10
    assert rows[-1][:3] == ["X", "2026-11-12", "3"]

    assert main(["report", "--from", "11/01/2026", "--out", str(out)]) == 2
    assert "--from: '11/01/2026' is not a date like 2026-11-30" in capsys.readouterr().err


@pytest.mark.slow
def test_the_pdf_report_has_its_charts(database: str) -> None:
    if not shutil.which("chromium"):
        if services_required():
            pytest.fail("chromium is missing: apt-get install -y chromium")
        pytest.skip("chromium is missing: apt-get install -y chromium")
    build_store()
    with session_scope(read_only=True) as session:
        raw = report.pdf_report(
            session=session, period=PERIOD, zone=CHICAGO, now=NOW, store_name="Shop"
        )
    assert raw.startswith(b"%PDF") and raw.count(b"/Type /Page\n") == 2
    # The trend, the categories, the cohorts and churn, each a picture of the dashboard's own.
    assert raw.count(b"/Subtype /Image") == 4


@pytest.mark.both_databases
def test_months_are_the_stores_months(database: str) -> None:
    """21:00 in Chicago on November 30 is December 1 in UTC: November for the store, on both
    databases (PostgreSQL converts, SQLite asks Python)."""
    with session_scope() as session:
        customer = Customer(first_name="Late", email="late@example.com")
        session.add(customer)
        session.flush()
        for at in (local(date(2026, 11, 30), 21), local(date(2026, 12, 1), 0, 30)):
            session.add(Order(customer_id=customer.id, ordered_at=at, total_cents=100))
    with session_scope(read_only=True) as session:
        found = session.execute(
            select(month_index(Order.ordered_at, "America/Chicago")).order_by(Order.ordered_at)
        ).scalars()
        assert list(found) == [2026 * 12 + 10, 2026 * 12 + 11]


@pytest.mark.both_databases
def test_kept_figures_follow_an_order_import(database: str, tmp_path: Path) -> None:
    build_store()
    first = board()
    assert board().current is first.current, "the second look reads what the first computed"
    content = "Receipt,Customer Email,Date,Total\nR1,cat@example.com,2026-11-16,25.00\n"
    _, problems = load(tmp_path, content, ImportKind.ORDERS, "orders.csv")
    assert problems == []
    after = board()
    assert after.current.revenue_cents == first.current.revenue_cents + 2_500
    assert after.current.orders == first.current.orders + 1
    with session_scope(read_only=True) as session:
        found = analytics.cohorts(session=session, today=TODAY, zone=CHICAGO, now=NOW, months=4)
    assert found.sizes.set_index("cohort").loc[date(2026, 11, 1), "revenue_cents"] == 118_400


@pytest.mark.slow
@pytest.mark.both_databases
def test_campaign_results_are_kept_until_the_data_moves(database: str, tmp_path: Path) -> None:
    ids = build_store()
    x = [ids["X"]]

    def live() -> attribution.Results:
        with session_scope(read_only=True) as session:
            return attribution.campaign_results(session=session, campaign_ids=x, now=NOW)[x[0]]

    def kept() -> list[CampaignResult]:
        with session_scope(read_only=True) as session:
            return list(session.scalars(select(CampaignResult)))

    with session_scope() as session:
        assert attribution.claim_refresh(session=session, now=NOW)
        assert not attribution.claim_refresh(session=session, now=NOW), "claimed once"
        assert attribution.refresh_stored_results(session=session, now=NOW) == 1
        assert attribution.refresh_stored_results(session=session, now=NOW) == 0
    (row,) = kept()
    with session_scope(read_only=True) as session:
        stored = attribution.stored_results(session=session, campaign_ids=x, now=NOW)[x[0]]
    assert stored == live() and row.value["revenue"]["code_cents"] == 5_000

    # ann pays with her code once more: the stamp moves, the kept row is passed over.
    content = (
        "Receipt,Customer Email,Date,Total,Promo Code\nR9,ann@example.com,2026-11-19,30,LC-ANN00X\n"
    )
    load(tmp_path, content, ImportKind.ORDERS, "orders.csv")
    with session_scope(read_only=True) as session:
        again = attribution.stored_results(session=session, campaign_ids=x, now=NOW)[x[0]]
    assert again.revenue.code_cents == 8_000 == live().revenue.code_cents
    with session_scope() as session:
        soon = NOW + timedelta(minutes=4)
        assert not attribution.claim_refresh(session=session, now=soon), "every few minutes"
        later = NOW + timedelta(minutes=5)
        assert attribution.claim_refresh(session=session, now=later)
        assert attribution.refresh_stored_results(session=session, now=later) == 1
    assert kept()[0].value["revenue"]["code_cents"] == 8_000


def test_results_with_a_lift_survive_the_round_trip() -> None:
    lift = Lift(
        treated=90,
        control=10,
        treated_buyers=20,
        control_buyers=1,
        treated_revenue_cents=90_000,
        control_revenue_cents=2_000,
        per_customer=Interval(800.0, 100.5, 1_499.5),
        measured_until=NOW,
        complete=True,
    )
    results = attribution.Results(
        revenue=Revenue(code_cents=5, code_orders=1, window_cents=2.5, window_orders=0.5),
        lift=lift,
        figures=Figures(**{name: 1 for name in Figures.__dataclass_fields__}),
    )
    assert results_from_json(json.loads(json.dumps(results_to_json(results)))) == results


@pytest.mark.both_databases
def test_the_dashboard_is_kept_ready_by_the_refresh_job(database: str, tmp_path: Path) -> None:
    build_store()
    with session_scope() as session:
        done = refresh.refresh_dashboard(session=session, now=NOW)
    # Four presets and the periods before them, the presets' categories, cohorts, churn.
    assert done == {"campaigns": 1, "snapshots": 14}
    today = NOW.astimezone(CHICAGO).date()
    thirty = Period.last_days(30, today=today)
    with session_scope(read_only=True) as session:
        live = analytics.kpis(session=session, period=thirty, zone=CHICAGO, now=NOW)
        computed = compute_cohorts(session, today, CHICAGO, 12)
        churn = compute_churn_by_month(session, today, CHICAGO, 12)
    analytics_cache.forget()

    def read() -> tuple[analytics.Dashboard, analytics.Cohorts, pd.DataFrame]:
        with session_scope(read_only=True) as session:
            return (
                analytics.dashboard(session=session, period=thirty, zone=CHICAGO, now=NOW),
                analytics.cohorts(session=session, today=today, zone=CHICAGO, now=NOW),
                analytics.churn_by_month(session=session, today=today, zone=CHICAGO, now=NOW),
            )

    board_read, cohorts_read, churn_read = read()
    assert board_read.current == live
    pd.testing.assert_frame_equal(cohorts_read.sizes, computed.sizes, check_dtype=False)
    pd.testing.assert_frame_equal(
        cohorts_read.retention, computed.retention, check_dtype=False, check_index_type=False
    )
    pd.testing.assert_frame_equal(churn_read, churn, check_dtype=False)

    # What is read is the snapshot: a changed one shows (this is how a test can tell).
    with session_scope() as session:
        row = session.get(AnalyticsSnapshot, f"kpis:{thirty.first}:{thirty.last}:{CHICAGO.key}")
        assert row is not None
        row.value = row.value | {"orders": 999}
    analytics_cache.forget()
    assert read()[0].current.orders == 999
    # An import moves the stamp: the snapshot is passed over until the job runs again.
    content = "Receipt,Customer Email,Date,Total\nR1,cat@example.com,2026-11-16,25.00\n"
    load(tmp_path, content, ImportKind.ORDERS, "orders.csv")
    assert read()[0].current.orders == live.orders + 1
