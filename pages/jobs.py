"""Background jobs: what ran, what is running, and how it ended."""

import pandas as pd
import streamlit as st

from core.db import session_scope
from core.infra import job_rows
from core.permissions import Permission
from ui.guard import live, require

require(Permission.VIEW)
st.title("Background jobs")
st.caption(
    "Imports, scoring, demo loading and sends run in the background. This page refreshes itself."
)


@live(run_every=3.0)
def job_table() -> None:
    with session_scope(read_only=True) as session:
        rows = [
            {
                "Started": job.started_at or job.created_at,
                "Job": job.kind,
                "Status": job.status,
                "Progress": job.progress,
                "Now": job.message,
                "Finished": job.finished_at,
                "Error": job.error or "",
            }
            for job in job_rows.recent_jobs(session=session, limit=100)
        ]
    if not rows:
        st.info("No background jobs yet.")
        return
    st.dataframe(
        pd.DataFrame(rows),
        hide_index=True,
        width="stretch",
        column_config={
            "Progress": st.column_config.ProgressColumn(min_value=0, max_value=100, format="%d%%"),
            "Started": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss"),
            "Finished": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss"),
        },
    )


job_table()
