"""Background jobs: what ran, what is running, and how it ended."""

from datetime import datetime

import pandas as pd
import streamlit as st

from core.db import session_scope
from core.infra import job_rows
from core.permissions import Permission
from jobs import flows
from ui import context
from ui.guard import live, require

require(Permission.VIEW)
st.title("Background jobs")
st.caption(
    "Imports, scoring, demo loading and sends run in the background. This page refreshes "
    f"itself; times are the store's ({context.store_zone().key})."
)


zone = context.store_zone()


def local(moment: datetime | None) -> datetime | None:
    """In the store's time zone, shown without it (the caption says which)."""
    return moment.astimezone(zone).replace(tzinfo=None) if moment else None


@live(run_every=3.0)
def job_table() -> None:
    with session_scope(read_only=True) as session:
        rows = [
            {
                "Started": local(job.started_at or job.created_at),
                "Job": flows.job_label(job.kind),
                "Status": job.status.title(),
                "Progress": job.progress,
                "Now": "" if job.status.finished else job.message,
                "Finished": local(job.finished_at),
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
            "Started": st.column_config.DatetimeColumn(format="MMM D, h:mm:ss a"),
            "Finished": st.column_config.DatetimeColumn(format="MMM D, h:mm:ss a"),
        },
    )


job_table()
