"""Analytics: what each campaign sent, earned and cost; the rest of the dashboard is on its way."""

import io

import pandas as pd
import streamlit as st

from core import attribution
from core.db import session_scope, utc_now
from core.infra.money import format_cents
from core.permissions import Permission
from ui.figures import dollars, incremental_text, roi_text
from ui.guard import require

require(Permission.VIEW)
st.title("Analytics")
st.subheader("Revenue per campaign")

with session_scope(read_only=True) as session:
    rows = attribution.campaign_report(session=session, now=utc_now())
    model = attribution.get_attribution_settings(session=session).model


shown = [row for row in rows if row.results.figures.went_out]
if not shown:
    st.info(
        "No campaign has reached a customer yet: revenue is measured once messages really go "
        "out (test mode sends nothing)."
    )
else:
    st.caption(
        f"Orders paid with a message's offer code, and orders inside the attribution window "
        f"({attribution.MODEL_LABELS[model].lower()}; Store profile). Incremental revenue is "
        "what the messaged customers spent beyond the control group kept back, with its 95 % "
        "margin."
    )

    def table_row(row: attribution.ReportRow) -> dict[str, object]:
        result = row.results
        return {
            "Campaign": row.name,
            "Status": row.status.title(),
            "Started": row.starts_at,
            "Sent": result.figures.sent,
            "Clicked": result.figures.clicked,
            "By offer code": dollars(result.revenue.code_cents),
            "In the window": dollars(result.revenue.window_cents),
            "Incremental": incremental_text(result),
            "Cost": format_cents(round(result.cost_cents)),
            "Return on cost": "—" if result.roi is None else roi_text(result.roi),
        }

    table = pd.DataFrame([table_row(row) for row in shown])
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={"Started": st.column_config.DatetimeColumn(format="MMM D, YYYY")},
    )

    def report_csv() -> bytes:
        out = io.StringIO()
        attribution.write_report_csv(out, shown)
        return ("\ufeff" + out.getvalue()).encode()

    st.download_button(
        "Download (CSV)", report_csv, "campaigns.csv", "text/csv", icon=":material/download:"
    )

with st.container(border=True):
    st.markdown("**Coming in the next releases**")
    st.markdown(
        "- A dashboard of KPIs against the previous period, with date ranges\n"
        "- Cohorts, retention and churn over time, with revenue at risk\n"
        "- A/B test results with significance\n"
        "- PDF reports and a weekly email to managers"
    )
