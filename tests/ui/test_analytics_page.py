"""The Analytics page on the demo store with its six months of campaigns: every card is the
dashboard's own figure, the dates and buckets change what is measured, and figures that cannot
be measured say why instead of showing a number."""

from collections.abc import Callable
from datetime import date
from zoneinfo import ZoneInfo

import pytest

from core import analytics
from core.analytics import Period
from core.db import session_scope
from core.permissions import Role
from tests.moments import NOW, TODAY
from tests.ui.conftest import frame, make_user, sign_in, texts
from tests.ui.test_campaign_pages import build_history, results_of

CHICAGO = ZoneInfo("America/Chicago")


def board_of(period: Period) -> analytics.Dashboard:
    with session_scope(read_only=True) as session:
        return analytics.dashboard(session=session, period=period, zone=CHICAGO, now=NOW)


def cards(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


@pytest.mark.slow
def test_the_dashboard_shows_the_stores_own_figures(
    built_store: Callable[..., dict[str, int]],
) -> None:
    past = built_store("ui-campaign-history", build_history)
    at = sign_in(frame(), make_user(Role.VIEWER))
    at.switch_page("pages/analytics.py").run()
    assert not at.exception

    board = board_of(Period.last_days(30, today=TODAY))
    shown = cards(at)
    assert list(shown) == [f.label for f in board.figures]
    figure = {f.key: f for f in board.figures}
    assert shown["Revenue"] == f"${board.current.revenue_cents / 100:,.0f}"
    assert shown["Orders"] == f"{board.current.orders:,}"
    assert shown["Messages sent"] == f"{board.current.messages_sent:,}"
    assert [c.name for c in board.current.campaigns] == ["Thanksgiving table"]
    revenue = next(m for m in at.metric if m.label == "Revenue")
    assert revenue.delta == f"{figure['revenue'].change:+.1%}"
    # A card without a measurement is a dash and its reason is written under the cards.
    for f in board.figures:
        if f.value is None:
            assert shown[f.label] == "—" and f.why in texts(at)
        else:
            assert shown[f.label] != "—"
    # An estimate shows its margin: incremental revenue is the holdout's, give or take.
    incremental = figure["incremental_revenue"]
    assert incremental.margin is not None and incremental.value is not None
    assert shown["Incremental revenue"] == (
        f"{incremental.text(incremental.value)} ±{incremental.text(incremental.margin)}"
    )
    assert len(at.get("plotly_chart")) == 2, "the trend and the categories: the open tab only"

    # Every campaign's revenue, whatever the dates.
    at.session_state["analytics_tab"] = "Campaigns"
    at.run()
    assert not at.metric and not at.get("plotly_chart")
    table = next(d.value for d in at.dataframe if "Campaign" in d.value.columns)
    assert sorted(table["Campaign"]) == sorted(past)
    results = results_of(past["Thanksgiving table"])
    row = table[table["Campaign"] == "Thanksgiving table"].iloc[0]
    assert row["By offer code"] == f"${results.revenue.code_cents / 100:,.0f}"

    at.session_state["analytics_tab"] = "Cohorts and churn"
    at.run()
    assert len(at.get("plotly_chart")) == 2, "the cohorts and the churn"
    assert "Revenue at risk by segment" in texts(at)

    at.session_state["analytics_tab"] = "Overview"
    at.run()
    next(b for b in at.button if b.label == "Make a PDF report").click().run()
    assert not at.exception and not at.error
    pdf = at.session_state[f"analytics_pdf_{board.period.first}_{board.period.last}_day"]
    assert pdf.startswith(b"%PDF")

    at.selectbox(key="analytics_range").select("Last 90 days").run()
    board = board_of(Period.last_days(90, today=TODAY))
    assert cards(at)["Revenue"] == f"${board.current.revenue_cents / 100:,.0f}"
    assert len(board.current.campaigns) == 3

    at.selectbox(key="analytics_range").select("Custom").run()
    at.date_input(key="analytics_custom").set_value((date(2026, 6, 1), date(2026, 6, 30))).run()
    board = board_of(Period(date(2026, 6, 1), date(2026, 6, 30)))
    assert cards(at)["Revenue"] == f"${board.current.revenue_cents / 100:,.0f}"
    assert "Jun 1 – Jun 30, 2026 against May 2 – May 31, 2026" in texts(at)
    assert not at.exception


def test_a_store_without_orders_is_told_where_figures_come_from() -> None:
    at = sign_in(frame(), make_user(Role.VIEWER))
    at.switch_page("pages/analytics.py").run()
    assert not at.exception
    assert "No orders yet" in texts(at)
    assert not at.metric
