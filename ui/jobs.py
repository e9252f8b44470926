"""A live panel that follows a background job until it ends."""

from __future__ import annotations

import streamlit as st

from core.db import session_scope
from core.errors import NotFound
from core.infra import job_rows
from core.models import JobStatus
from ui.flash import flash
from ui.guard import live


def follow_job(state_key: str, *, done_message: str) -> None:
    """Show the progress of the job whose id is in `st.session_state[state_key]`.

    Refreshes itself every second; when the job ends it clears the key, clears cached data and
    reruns the page so the results show.
    """
    if not st.session_state.get(state_key):
        return

    @live(run_every=1.0)
    def panel() -> None:
        job_id = st.session_state.get(state_key)
        if not job_id:
            return
        try:
            with session_scope(read_only=True) as session:
                job = job_rows.get_job(session=session, job_id=job_id)
                status, progress, message, error = job.status, job.progress, job.message, job.error
        except NotFound:
            st.session_state.pop(state_key, None)
            return
        if status == JobStatus.SUCCEEDED:
            st.session_state.pop(state_key, None)
            flash(done_message)
            st.cache_data.clear()
            st.rerun(scope="app")
        elif status == JobStatus.FAILED:
            st.session_state.pop(state_key, None)
            st.error(f"The job failed: {error}")
        else:
            st.progress(progress / 100, text=message or "Waiting for a worker…")

    panel()
