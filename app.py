"""Last Call: one process serves the dashboard (frame.py) and the HTTP routes.

`streamlit run app.py` finds `app` by itself; `uvicorn app:app` works too.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import streamlit as st
from starlette.concurrency import run_in_threadpool
from streamlit.runtime.pages_manager import PagesManager

from core import auth
from core.config import get_settings
from core.db import session_scope, utc_now
from core.infra import health, job_rows, keys, migration_runner
from core.infra.logs import configure_logging, new_id
from jobs import clock
from web.routes import ROUTES

log = logging.getLogger("app")

# frame.py calls st.navigation on every run, so the app never uses Streamlit's pages/ folder
# convention. Left undecided, Streamlit infers it per process from the folder's existence, and a
# new process would then run pages/*.py directly, without the sign-in in frame.py, for a first
# request that names a page (e.g. /users), until some session ran the frame once.
PagesManager.uses_pages_directory = False


def _start() -> None:
    settings = get_settings()
    configure_logging(settings.log_level)
    try:
        keys.master_key()
    except keys.InsecureSecret as exc:
        log.critical("refusing to start: %s", exc)
        raise
    for warning in health.go_live_warnings(settings):
        log.warning("before going live: %s", warning)
    try:
        migration_runner.ensure_current()
    except Exception:
        # Keep serving: /healthz reports the database as down, and pages retry on their own.
        log.exception("database not ready at start-up")
        return
    with session_scope() as session:
        first_run = not auth.has_users(session=session)
        # Without a queue, jobs ran in threads of the previous process and died with it.
        interrupted = 0
        if not settings.redis_url:
            interrupted = job_rows.fail_interrupted(session=session, now=utc_now())
    if interrupted:
        log.warning("marked interrupted jobs as failed", extra={"count": interrupted})
    if first_run:
        log.warning(
            "no administrator yet: open the app to create one. If the setup page asks for a "
            "setup token, it is %s",
            auth.setup_token(),
        )
    log.info("app started", extra={"redis": bool(settings.redis_url), "sqlite": settings.is_sqlite})


@asynccontextmanager
async def lifespan(_app: Any) -> AsyncIterator[None]:
    await run_in_threadpool(_start)
    stop = threading.Event()
    if not get_settings().redis_url:
        clock.start(stop)  # with Redis, the workers keep the clock
    yield
    stop.set()


def friendly_error(exc: Exception) -> bool:
    """Show a calm message with a reference instead of a traceback; the log has the detail."""
    reference = new_id()
    log.error("page error", exc_info=exc, extra={"reference": reference})
    st.error(
        "Something went wrong on our side and the page could not finish. "
        f"Try again; if it keeps happening, give your administrator this reference: `{reference}`."
    )
    return True


app = st.App(
    "frame.py",
    routes=ROUTES,
    lifespan=lifespan,
    on_script_error=friendly_error,
)
