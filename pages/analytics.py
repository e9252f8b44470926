"""Analytics: the store's key figures against the previous period, revenue over time with the
campaigns marked, by category and segment; what each campaign earned; cohorts and churn."""

import io
from datetime import timedelta

import pandas as pd
import streamlit as st

from core import analytics, attribution
from core.analytics import Bucket, Period, charts, report
from core.analytics.periods import MAX_DAYS, PRESETS
from core.db import session_scope, utc_now
from core.errors import ValidationError
from core.infra.money import format_cents, format_dollars
from core.permissions import Permission
from ui import context
from ui.calls import attempt
from ui.figures import incremental_text
from ui.formatting import md
from ui.guard import require

require(Permission.VIEW)
st.title("Analytics")

zone = context.store_zone()
today = context.store_today()

NO_SEGMENTS = "No segments yet: Segments turns a playbook into one in a click."
BUCKETS = {"Daily": Bucket.DAY, "Weekly": Bucket.WEEK, "Monthly": Bucket.MONTH}

with session_scope(read_only=True) as session:
    history_begins = analytics.first_order_day(session=session, zone=zone)
if history_begins is None:
    st.info(
        "No orders yet: the figures here are measured from your orders. Import them on the "
        "Customers page (or load the demo store from Home)."
    )
    st.page_link("pages/customers.py", label="Go to Customers", icon=":material/group:")
    st.stop()

left, middle, right = st.columns([3, 3, 2])
preset = left.selectbox("Dates", [*PRESETS, "Custom"], index=1, key="analytics_range")
if preset == "Custom":
    picked = middle.date_input(
        "From – to",
        value=(today - timedelta(days=29), today),
        min_value=history_begins - timedelta(days=MAX_DAYS),
        max_value=today,
        key="analytics_custom",
    )
    if not isinstance(picked, tuple) or len(picked) != 2:
        st.info("Pick the last day of the range too.")
        st.stop()
    try:
        period = Period(picked[0], picked[1])
    except ValidationError as error:
        st.error(str(error))
        st.stop()
else:
    period = Period.preset(preset, today=today)
default_bucket = "Daily" if period.days <= 31 else "Weekly" if period.days <= 180 else "Monthly"
bucket_name = right.segmented_control(
    "Show by", list(BUCKETS), default=default_bucket, key=f"analytics_bucket_{preset}"
)
bucket = BUCKETS[bucket_name or default_bucket]
st.caption(
    f"{period.label()} against {period.previous().label()} · days in the store's time zone "
    f"({zone.key}) · order history from {history_begins:%b %-d, %Y}"
)


# Core keeps each figure for the state of the data (analytics.cache): a rerun reads it back at
# once and a new import or send shows without waiting for a timer.
with st.spinner("Measuring…"), session_scope(read_only=True) as session:
    board = analytics.dashboard(
        session=session, period=period, zone=zone, now=utc_now(), unit_of_work=session_scope
    )


# Only the open tab is worked out (cohorts and churn read every order of a year).
overview, campaigns_tab, retention_tab = st.tabs(
    ["Overview", "Campaigns", "Cohorts and churn"], key="analytics_tab", on_change="rerun"
)

if overview.open:
    with overview:
        for start in range(0, len(board.figures), 4):
            row = st.columns(4)
            for column, figure in zip(row, board.figures[start : start + 4], strict=False):
                column.metric(
                    figure.label,
                    figure.value_text(),
                    figure.change_text(),
                    delta_color="inverse" if figure.lower_is_better else "normal",
                    help=f"{figure.help} Previous period: {figure.text(figure.previous)}."
                    + (f"\n\n{figure.why}" if figure.why else ""),
                    border=True,
                )
        reasons = dict.fromkeys(f.why for f in board.figures if f.why)
        if reasons:
            st.caption(" ".join(md(why) for why in reasons))

        figures_csv = io.StringIO()
        analytics.write_figures_csv(figures_csv, board)

        with session_scope(read_only=True) as session:
            trend = analytics.revenue_trend(
                session=session, period=period, zone=zone, bucket=bucket, now=utc_now()
            )
            categories = analytics.category_revenue(
                session=session, period=period, zone=zone, now=utc_now()
            )
            by_segment = analytics.segment_performance(
                session=session, period=period, zone=zone, now=utc_now()
            )
        st.plotly_chart(
            charts.trend_figure(trend, list(board.current.campaigns), bucket=bucket, zone=zone),
            width="stretch",
        )
        if categories.empty:
            st.info("No items were sold in this period or the one before.")
        else:
            st.plotly_chart(charts.category_figure(categories), width="stretch")
        st.markdown("**Segments in this period**")
        if by_segment.empty:
            st.info(NO_SEGMENTS)
        else:
            st.dataframe(
                pd.DataFrame(
                    {
                        "Segment": by_segment["segment"],
                        "Members today": by_segment["members"],
                        "Bought in the period": by_segment["buyers"],
                        "Orders": by_segment["orders"],
                        "Revenue": by_segment["revenue_cents"] / 100,
                        "Revenue per member": by_segment["revenue_per_member_cents"] / 100,
                    }
                ),
                hide_index=True,
                width="stretch",
                column_config={
                    "Revenue": st.column_config.NumberColumn(format="dollar"),
                    "Revenue per member": st.column_config.NumberColumn(format="dollar"),
                },
            )

        pdf_key = f"analytics_pdf_{period.first}_{period.last}_{bucket.value}"
        if st.button("Make a PDF report", icon=":material/picture_as_pdf:"):
            with st.spinner("Drawing the charts…"):
                made = attempt(
                    lambda session: report.pdf_report(
                        session=session,
                        period=period,
                        zone=zone,
                        now=utc_now(),
                        store_name=context.store().name,
                        bucket=bucket,
                    ),
                    read_only=True,
                )
            if made is not None:
                st.session_state[pdf_key] = made.value
        if pdf_key in st.session_state:
            st.download_button(
                "Download the PDF report",
                st.session_state[pdf_key],
                f"report-{period.first}-{period.last}.pdf",
                "application/pdf",
                icon=":material/download:",
            )

        trend_csv = trend.assign(revenue=trend["revenue_cents"] / 100)[
            ["start", "revenue", "orders"]
        ]
        left, right = st.columns(2)
        left.download_button(
            "Key figures (CSV)",
            ("\ufeff" + figures_csv.getvalue()).encode(),
            f"figures-{period.first}-{period.last}.csv",
            "text/csv",
            icon=":material/download:",
        )
        right.download_button(
            f"Revenue by {bucket.value} (CSV)",
            ("\ufeff" + trend_csv.to_csv(index=False)).encode(),
            f"revenue-by-{bucket.value}-{period.first}-{period.last}.csv",
            "text/csv",
            icon=":material/download:",
        )

if campaigns_tab.open:
    with campaigns_tab:
        with session_scope(read_only=True) as session:
            rows = attribution.campaign_report(session=session, now=utc_now())
            model = attribution.get_attribution_settings(session=session).model
        reached = [row for row in rows if row.results.figures.went_out]
        if not reached:
            st.info(
                "No campaign has reached a customer yet: revenue is measured once messages really "
                "go out (test mode sends nothing)."
            )
        else:
            st.caption(
                "Every campaign, whatever the dates above. Orders paid with a message's offer "
                "code, and orders inside the attribution window "
                f"({attribution.MODEL_LABELS[model].lower()}; Store profile). Incremental revenue "
                "is what the messaged customers spent beyond the control group kept back, with its "
                "95 % margin."
            )

            def table_row(row: attribution.ReportRow) -> dict[str, object]:
                result = row.results
                return {
                    "Campaign": row.name,
                    "Status": row.status.title(),
                    "Started": row.starts_at,
                    "Sent": result.figures.sent,
                    "Clicked": result.figures.clicked,
                    "By offer code": format_dollars(result.revenue.code_cents),
                    "In the window": format_dollars(result.revenue.window_cents),
                    "Incremental": incremental_text(result),
                    "Cost": format_cents(round(result.cost_cents)),
                    "Return on cost": "—"
                    if result.roi is None
                    else attribution.format_roi(result.roi),
                }

            st.dataframe(
                pd.DataFrame([table_row(row) for row in reached]),
                hide_index=True,
                width="stretch",
                column_config={"Started": st.column_config.DatetimeColumn(format="MMM D, YYYY")},
            )

            def report_csv() -> bytes:
                out = io.StringIO()
                attribution.write_report_csv(out, reached)
                return ("\ufeff" + out.getvalue()).encode()

            st.download_button(
                "Campaigns (CSV)",
                report_csv,
                "campaigns.csv",
                "text/csv",
                icon=":material/download:",
            )


if retention_tab.open:
    with retention_tab:
        with st.spinner("Following the cohorts…"), session_scope(read_only=True) as session:
            found = analytics.cohorts(session=session, today=today, zone=zone, now=utc_now())
            churn = analytics.churn_by_month(session=session, today=today, zone=zone, now=utc_now())
            at_risk = analytics.churn_by_segment(session=session, today=today, zone=zone)
        st.caption(
            "The last twelve months, whatever the dates above. A cohort is the customers whose "
            "first order fell in that month (for the oldest, the month the order history begins)."
        )
        if found.sizes.empty:
            st.info(
                "No orders in the last twelve months: cohorts start with a customer's first order."
            )
        else:
            st.plotly_chart(charts.retention_figure(found.retention), width="stretch")
            st.dataframe(
                pd.DataFrame(
                    {
                        "Cohort": [f"{c:%B %Y}" for c in found.sizes["cohort"]],
                        "Customers": found.sizes["customers"],
                        "Revenue so far": found.sizes["revenue_cents"] / 100,
                        "Per customer": found.sizes["revenue_per_customer_cents"] / 100,
                    }
                ),
                hide_index=True,
                width="stretch",
                column_config={
                    "Revenue so far": st.column_config.NumberColumn(format="dollar"),
                    "Per customer": st.column_config.NumberColumn(format="dollar"),
                },
            )
        if churn["churn_rate"].notna().any():
            st.plotly_chart(charts.churn_figure(churn, today=today), width="stretch")
            st.caption(
                f"A customer churns when {analytics.CHURN_DAYS} days pass without an order; months "
                f"without a point had nobody who could yet (the history is shorter than "
                f"{analytics.CHURN_DAYS} days before them)."
            )
        st.markdown("**Revenue at risk by segment**")
        if at_risk.empty:
            st.info(NO_SEGMENTS)
        else:
            st.dataframe(
                pd.DataFrame(
                    {
                        "Segment": at_risk["segment"],
                        "Members": at_risk["members"],
                        "High churn risk": at_risk["at_risk"],
                        "Share": at_risk["at_risk_share"],
                        "Their last 12 months' spending": at_risk["revenue_at_risk_cents"] / 100,
                    }
                ),
                hide_index=True,
                width="stretch",
                column_config={
                    "Share": st.column_config.NumberColumn(format="percent"),
                    "Their last 12 months' spending": st.column_config.NumberColumn(
                        format="dollar"
                    ),
                },
            )
            st.caption("Churn risk comes from the latest scoring (Scores page).")
