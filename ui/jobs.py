"""A live panel that follows a background job until it ends."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from core.db import session_scope
from core.errors import NotFound
from core.infra import job_rows
from core.models import JobStatus
from core.permissions import Actor
from jobs import flows
from ui.calls import attempt_flow
from ui.flash import flash
from ui.guard import live


def follow_job(
    state_key: str,
    *,
    done_message: str | Callable[[dict[str, Any]], str],
    cancel_as: Actor | None = None,
) -> None:
    """Show the progress of the job whose id is in `st.session_state[state_key]`.

    Refreshes itself every second; when the job ends it clears the key, clears cached data and
    reruns the page so the results show. With `cancel_as`, a Cancel button stops the job.
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
                result = dict(job.result)
        except NotFound:
            st.session_state.pop(state_key, None)
            return
        if status == JobStatus.SUCCEEDED:
            st.session_state.pop(state_key, None)
            flash(done_message if isinstance(done_message, str) else done_message(result))
            st.cache_data.clear()
            st.rerun(scope="app")
        elif status == JobStatus.FAILED:
            st.session_state.pop(state_key, None)
            st.error(f"The job failed: {error}")
        elif status == JobStatus.CANCELLED:
            st.session_state.pop(state_key, None)
            st.info("Cancelled: nothing was changed.")
        else:
            st.progress(progress / 100, text=message or "Waiting for a worker…")
            if cancel_as is not None and st.button("Cancel", key=f"{state_key}_cancel"):
                attempt_flow(lambda: flows.cancel_job(actor=cancel_as, job_id=job_id))
                st.rerun(scope="fragment")

    panel()
