"""Attribution against hand-computed figures on a small fixed dataset, on both databases: offer
codes, the three window models with overlapping campaigns, a code redeemed after its window,
promo codes read from an order import, and the control group's lift."""

from __future__ import annotations

import csv
import io
import json
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import stats
from sqlalchemy import select

from core import attribution
from core.attribution import AttributionSettings, Model
from core.campaigns.holdout import held_out
from core.cli import main
from core.db import session_scope
from core.errors import PermissionDenied
from core.messaging import monitor, outbox
from core.models import (
    Campaign,
    CampaignStatus,
    Customer,
    ImportKind,
    Message,
    MessageStatus,
    Order,
    StepStatus,
)
from core.permissions import SYSTEM, Actor, Role
from tests.integration.conftest import NOON_CHICAGO, by_customer, load, send_queued
from tests.moments import NOW

T0 = NOW - timedelta(days=30)
H, D = timedelta(hours=1), timedelta(days=1)


def build_history() -> dict[str, int]:
    """Campaign A emailed ana (opened, clicked), bob (opened) and dee (nothing seen; her code is
    rung up ten days later); campaign B texted ana and bob (delivered). Seven orders:

    ana  T0+2d12h $100  inside A's click window and B's delivery window
    ana  T0+2d13h  $50  with B's code for ana: B's by code, in no window
    ana  T0+4d     $40  B's window has closed: A's alone
    bob  T0+20h    $60  inside A's view window (opened, no click)
    bob  T0+2d     $30  A's window closed, B's not begun: nobody's
    dee  T0+10d    $80  with A's code for dee, $10 off: A's by code, long after any window
    eve  T0+1d     $25  never messaged
    """
    with session_scope() as session:
        ids: dict[str, int] = {}
        for name in ("ana", "bob", "dee", "eve"):
            customer = Customer(first_name=name.title(), email=f"{name}@example.com")
            session.add(customer)
            session.flush()
            ids[name] = customer.id
        for name in ("A", "B"):
            campaign = Campaign(name=name, status=CampaignStatus.COMPLETED)
            session.add(campaign)
            session.flush()
            ids[name] = campaign.id

        def message(campaign: str, who: str, channel: str, code: str, **at: Any) -> None:
            session.add(
                Message(
                    key=f"{campaign}:{who}",
                    campaign_id=ids[campaign],
                    customer_id=ids[who],
                    channel=channel,
                    status=MessageStatus.DELIVERED,
                    send_after=T0,
                    sent_at=T0,
                    offer_code=code,
                    **at,
                )
            )

        message("A", "ana", "email", "LC-ANA00A", opened_at=T0 + H, clicked_at=T0 + 2 * H)
        message("A", "bob", "email", "LC-B0B00A", opened_at=T0 + 3 * H)
        message("A", "dee", "email", "LC-DEE00A")
        message("B", "ana", "sms", "LC-ANA00B", delivered_at=T0 + 2 * D)
        message("B", "bob", "sms", "LC-B0B00B", delivered_at=T0 + 5 * D)
        for who, at, cents, code, discount in (
            ("ana", T0 + 2 * D + 12 * H, 10_000, None, 0),
            ("ana", T0 + 2 * D + 13 * H, 5_000, "LC-ANA00B", 0),
            ("ana", T0 + 4 * D, 4_000, None, 0),
            ("bob", T0 + 20 * H, 6_000, None, 0),
            ("bob", T0 + 2 * D, 3_000, None, 0),
            ("dee", T0 + 10 * D, 8_000, "LC-DEE00A", 1_000),
            ("eve", T0 + D, 2_500, None, 0),
        ):
            session.add(
                Order(
                    customer_id=ids[who],
                    ordered_at=at,
                    total_cents=cents,
                    discount_cents=discount,
                    promo_code=code,
                )
            )
    return ids


def revenue(ids: dict[str, int], model: Model, *names: str) -> dict[str, tuple[Any, ...]]:
    with session_scope(read_only=True) as session:
        found = attribution.campaign_revenue(
            session=session,
            campaign_ids=[ids[n] for n in names],
            settings=AttributionSettings(model=model),
        )
    return {
        n: (
            found[ids[n]].code_cents,
            found[ids[n]].code_orders,
            found[ids[n]].discount_cents,
            found[ids[n]].window_cents,
            found[ids[n]].window_orders,
        )
        for n in names
    }


@pytest.mark.both_databases
@pytest.mark.parametrize(
    ("model", "a_window", "b_window"),
    [
        (Model.LAST_TOUCH, (10_000, 2), (10_000, 1)),  # ana's $100: B's touch began later
        (Model.FIRST_TOUCH, (20_000, 3), (0, 0)),
        (Model.LINEAR, (15_000, 2.5), (5_000, 0.5)),  # ana's $100 shared half and half
    ],
)
def test_each_model_credits_every_order_once(
    database: str,
    model: Model,
    a_window: tuple[int, float],
    b_window: tuple[int, float],
) -> None:
    ids = build_history()
    both = revenue(ids, model, "A", "B")
    assert both["A"] == (8_000, 1, 1_000, *a_window)
    assert both["B"] == (5_000, 1, 0, *b_window)
    # An order is credited once per model: the campaigns' windowed revenue adds up to the
    # orders inside any window ($100 + $40 + $60), codes apart.
    assert both["A"][3] + both["B"][3] == 20_000
    # Asked about one campaign, the overlapping one still takes its share.
    assert revenue(ids, model, "A") == {"A": both["A"]}


@pytest.mark.both_databases
def test_windows_follow_the_store_settings(database: str) -> None:
    ids = build_history()
    with session_scope(read_only=True) as session:
        short = attribution.campaign_revenue(
            session=session,
            campaign_ids=[ids["A"]],
            settings=AttributionSettings(click_window_days=2, view_window_days=0),
        )
    # Clicked at T0+2h: the 2-day window keeps nothing of ana's (T0+2d12h is later); bob's
    # open no longer counts with a zero view window.
    assert (short[ids["A"]].window_cents, short[ids["A"]].code_cents) == (0, 8_000)


@pytest.mark.both_databases
def test_imported_promo_codes_move_revenue_by_exactly_the_matched_orders(
    database: str, tmp_path: Path
) -> None:
    ids = build_history()
    before = revenue(ids, Model.LAST_TOUCH, "A")["A"]
    content = (
        "Receipt,Customer Email,Date,Total,Promo Code\n"
        f"R1,bob@example.com,{(T0 + 20 * D).date()},45.50, lc b0b 00a \n"
        f"R2,eve@example.com,{(T0 + 21 * D).date()},12.00,SUMMER10\n"
        f"R3,eve@example.com,{(T0 + 22 * D).date()},9.99,\n"
    )
    summary, problems = load(tmp_path, content, ImportKind.ORDERS, "orders.csv")
    assert problems == [] and summary.inserted == 3
    after = revenue(ids, Model.LAST_TOUCH, "A")["A"]
    assert after[0] - before[0] == 4_550 and after[1] - before[1] == 1
    assert after[3:] == before[3:]
    with session_scope(read_only=True) as session:
        codes = set(session.scalars(select(Order.promo_code).where(Order.external_id.like("R%"))))
    assert codes == {"LC-B0B00A", "SUMMER10", None}


def build_holdout(treated: list[int], control: list[int]) -> int:
    """A campaign sent at T0 to one customer per cent amount in `treated` (what each spent in
    the week after), keeping back one per amount in `control`."""
    with session_scope() as session:
        campaign = Campaign(name="Lift", status=CampaignStatus.COMPLETED, holdout_percent=10)
        session.add(campaign)
        session.flush()
        for held, amounts in ((False, treated), (True, control)):
            for n, cents in enumerate(amounts):
                customer = Customer(first_name=f"{'c' if held else 't'}{n}")
                session.add(customer)
                session.flush()
                session.add(
                    Message(
                        key=f"lift:{customer.id}",
                        campaign_id=campaign.id,
                        customer_id=customer.id,
                        channel="email",
                        status=MessageStatus.HELD_OUT if held else MessageStatus.SENT,
                        send_after=T0,
                    )
                )
                if cents:
                    session.add(
                        Order(customer_id=customer.id, ordered_at=T0 + 2 * D, total_cents=cents)
                    )
                # Outside the measuring period (after the 5-day click window): never counted.
                session.add(Order(customer_id=customer.id, ordered_at=T0 + 9 * D, total_cents=99))
        return campaign.id


@pytest.mark.both_databases
def test_lift_and_its_interval_match_a_reference_computation(database: str) -> None:
    treated = [0, 0, 5_000, 12_000, 3_000, 0, 8_000, 0, 4_500, 20_000, 0, 6_000]
    control = [0, 2_000, 0, 0, 7_000, 0]
    campaign_id = build_holdout(treated, control)
    with session_scope(read_only=True) as session:
        lift = attribution.campaign_lift(
            session=session, campaign_id=campaign_id, settings=AttributionSettings(), now=NOW
        )
    assert lift is not None and (lift.treated, lift.control) == (12, 6)
    assert (lift.treated_buyers, lift.control_buyers) == (7, 2)
    assert (lift.treated_revenue_cents, lift.control_revenue_cents) == (58_500, 9_000)
    reference = stats.ttest_ind(treated, control, equal_var=False).confidence_interval(0.95)
    assert lift.per_customer is not None
    assert lift.per_customer.difference == pytest.approx(np.mean(treated) - np.mean(control))
    assert lift.per_customer.low == pytest.approx(reference.low)
    assert lift.per_customer.high == pytest.approx(reference.high)
    incremental = lift.incremental
    assert incremental is not None
    assert incremental.difference == pytest.approx(12 * (58_500 / 12 - 9_000 / 6))
    assert lift.complete  # T0 + 5 days is long before NOW
    assert lift.sentence().startswith("Made $405 more than doing nothing, ±$")


@pytest.mark.both_databases
def test_a_campaign_without_control_group_has_no_lift_and_a_small_one_says_so(
    database: str,
) -> None:
    ids = build_history()
    small = build_holdout([1_000, 2_000], [500])
    with session_scope(read_only=True) as session:
        settings = AttributionSettings()
        assert (
            attribution.campaign_lift(
                session=session, campaign_id=ids["A"], settings=settings, now=NOW
            )
            is None
        )
        lift = attribution.campaign_lift(
            session=session, campaign_id=small, settings=settings, now=NOW
        )
    assert lift is not None and lift.incremental is None
    assert lift.unmeasured == "too few kept back"
    assert "control group has 1 customer and 2 were messaged (at least 2" in lift.sentence()


def test_nobody_buying_in_either_group_is_not_a_lift_of_zero_plus_or_minus_zero(
    database: str,
) -> None:
    """No spread in either group gives no interval, not "$0 ±$0": a certainty that a few
    customers who bought nothing cannot give."""
    quiet = build_holdout([0, 0, 0, 0], [0, 0])
    with session_scope(read_only=True) as session:
        lift = attribution.campaign_lift(
            session=session, campaign_id=quiet, settings=AttributionSettings(), now=NOW
        )
    assert lift is not None and (lift.treated, lift.control) == (4, 2)
    assert lift.per_customer is None and lift.incremental is None
    assert lift.unmeasured == "no purchases in either group"
    assert lift.sentence() == (
        "Not measurable yet: nobody in either group has bought in the window, so there is no "
        "difference to measure."
    )


@pytest.mark.both_databases
def test_results_reach_the_command_line(database: str, capsys: pytest.CaptureFixture[str]) -> None:
    ids = build_history()
    with session_scope() as session:
        for message in session.scalars(select(Message)):
            message.cost_cents = 100.0  # five messages at $1
    sys.stdin = io.StringIO("")
    assert main(["campaigns", "--json"]) == 0
    listed = {c["id"]: c for c in json.loads(capsys.readouterr().out)}
    a = listed[ids["A"]]
    assert (a["revenue_code_cents"], a["revenue_window_cents"]) == (8_000, 10_000)
    assert a["incremental_revenue_cents"] is None and a["roi_basis"] == "attributed"
    # Cost: three emails at $1 and dee's $10 discount; return: $180 attributed.
    assert a["cost_total_cents"] == 1_300
    assert a["roi"] == pytest.approx((18_000 - 1_300) / 1_300, abs=1e-3)


@pytest.mark.both_databases
def test_attribution_settings_are_kept_and_need_the_right_role(database: str) -> None:
    chosen = AttributionSettings(click_window_days=7, view_window_days=2, model=Model.LINEAR)
    with session_scope() as session:
        attribution.save_attribution_settings(session=session, actor=SYSTEM, settings=chosen)
    with session_scope(read_only=True) as session:
        assert attribution.get_attribution_settings(session=session) == chosen
    viewer = Actor(user_id=None, email="v@example.com", role=Role.VIEWER)
    with session_scope() as session, pytest.raises(PermissionDenied):
        attribution.save_attribution_settings(session=session, actor=viewer, settings=chosen)


@pytest.mark.both_databases
def test_messages_export_with_their_offer_codes(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = build_history()
    out = tmp_path / "messages.csv"
    sys.stdin = io.StringIO("")
    assert main(["export", "messages", "--out", str(out), "--campaign", str(ids["A"])]) == 0
    assert json.loads(capsys.readouterr().out)["rows"] == 3
    with out.open() as handle:
        rows = list(csv.DictReader(handle))
    assert [(int(r["customer_id"]), r["channel"], r["offer_code"]) for r in rows] == [
        (ids["ana"], "email", "LC-ANA00A"),
        (ids["bob"], "email", "LC-B0B00A"),
        (ids["dee"], "email", "LC-DEE00A"),
    ]
    assert {"campaign_id", "sent_at", "status"} <= set(rows[0])
    assert main(["export", "messages", "--out", str(out)]) == 0
    assert json.loads(capsys.readouterr().out)["rows"] == 5


@pytest.mark.both_databases
def test_the_control_group_is_written_but_never_sent(shop: dict[str, int]) -> None:
    with session_scope() as session:
        session.get_one(Campaign, shop["campaign"]).holdout_percent = 50
        outbox.queue_due_steps(session=session, now=NOON_CHICAGO - timedelta(hours=6))
    # ana, bob, dee, eve may be messaged (cy is under 21, fay has no birth date).
    reachable = {"ana", "bob", "dee", "eve"}
    kept = {n for n in reachable if held_out(shop["campaign"], shop[n], 50)}
    assert kept and kept != reachable  # the draw splits these four; see the hash
    send_queued()
    written = by_customer(shop)
    for (name, _), message in written.items():
        held = message.status == MessageStatus.HELD_OUT
        assert held == (name in kept) and (message.sent_at is None) == held
    with session_scope(read_only=True) as session:
        figures = monitor.campaign_figures(session=session, campaign_ids=[shop["campaign"]])
    got = figures[shop["campaign"]]
    assert got.held_out == sum(m.status == MessageStatus.HELD_OUT for m in written.values())
    assert got.targeted + got.held_out == len(written)
    # Writing the step again keeps the same customers back and adds nothing.
    with session_scope() as session:
        for step in session.get_one(Campaign, shop["campaign"]).steps:
            step.status = StepStatus.PLANNED
        outbox.queue_due_steps(session=session, now=NOON_CHICAGO - timedelta(hours=6))
    assert by_customer(shop).keys() == written.keys()


@pytest.mark.both_databases
def test_the_command_line_shows_and_changes_the_settings(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    sys.stdin = io.StringIO("")
    assert main(["attribution", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "click_window_days": 5,
        "view_window_days": 1,
        "model": "last_touch",
    }
    assert main(["attribution", "--click-days", "3", "--model", "linear", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["model"] == "linear"
    assert main(["attribution", "--click-days", "90"]) == 2
    assert "less than or equal to 30" in capsys.readouterr().err
    with session_scope(read_only=True) as session:
        kept = attribution.get_attribution_settings(session=session)
    assert (kept.click_window_days, kept.model) == (3, Model.LINEAR)


@pytest.mark.both_databases
def test_the_campaign_report_as_csv_is_safe_for_a_spreadsheet(database: str) -> None:
    ids = build_history()
    with session_scope() as session:
        session.get_one(Campaign, ids["A"]).name = '=HYPERLINK("http://evil")'
    with session_scope(read_only=True) as session:
        rows = attribution.campaign_report(session=session, now=NOW)
    out = io.StringIO()
    assert attribution.write_report_csv(out, rows) == 2
    read = {r["id"]: r for r in csv.DictReader(io.StringIO(out.getvalue()))}
    assert read[str(ids["A"])]["name"] == '\'=HYPERLINK("http://evil")'
    assert read[str(ids["A"])]["revenue_code_cents"] == "8000"
