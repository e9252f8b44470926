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
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from streamlit.runtime.pages_manager import PagesManager

from core import health, schema
from core import jobs as job_rows
from core.config import get_settings
from core.db import in_transaction, session_scope, utc_now
from core.errors import ValidationError
from core.logs import bound, configure_logging, new_id, request_id
from core.messaging import unsubscribe_page, webhooks
from jobs import clock
from jobs.connections import redis_connection

log = logging.getLogger("app")

# frame.py calls st.navigation on every run, so the app never uses Streamlit's pages/ folder
# convention. Left undecided, Streamlit infers it per process from the folder's existence, and a
# new process would then run pages/*.py directly, without the sign-in in frame.py, for a first
# request that names a page (e.g. /users), until some session ran the frame once.
PagesManager.uses_pages_directory = False


def _ping_redis(url: str) -> None:
    redis_connection(url).ping()


async def healthz(request: Request) -> JSONResponse:
    with bound(request_id, request.headers.get("x-request-id") or new_id()):
        healthy, report = await run_in_threadpool(health.check, _ping_redis)
    return JSONResponse(report, status_code=200 if healthy else 503)


def _start() -> None:
    settings = get_settings()
    configure_logging(settings.log_level)
    try:
        schema.ensure_current()
    except Exception:
        # Keep serving: /healthz reports the database as down, and pages retry on their own.
        log.exception("database not ready at start-up")
        return
    if not settings.redis_url:
        # Without a queue, jobs ran in threads of the previous process and died with it.
        with session_scope() as session:
            interrupted = job_rows.fail_interrupted(session=session, now=utc_now())
        if interrupted:
            log.warning("marked interrupted jobs as failed", extra={"count": interrupted})
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


# --- provider webhooks and unsubscribe links (no login: each request proves itself) ----------


async def mailgun_webhook(request: Request) -> JSONResponse:
    settings = get_settings()
    if settings.mailgun_webhook_signing_key is None:
        return JSONResponse({"error": "MAILGUN_WEBHOOK_SIGNING_KEY is not set"}, status_code=403)
    try:
        payload = await request.json()
        signed = payload.get("signature") or {}
        event_data = payload["event-data"]
    except (ValueError, KeyError, AttributeError):
        return JSONResponse({"error": "not a Mailgun webhook"}, status_code=400)
    if not webhooks.verify_mailgun(
        signing_key=settings.mailgun_webhook_signing_key.get_secret_value(),
        timestamp=str(signed.get("timestamp", "")),
        token=str(signed.get("token", "")),
        signature=str(signed.get("signature", "")),
        now=utc_now(),
    ):
        log.warning("mailgun webhook refused: bad signature")
        return JSONResponse({"error": "invalid signature"}, status_code=403)
    result = await run_in_threadpool(
        in_transaction,
        lambda session: webhooks.handle_mailgun_event(
            session=session, event_data=event_data, now=utc_now()
        ),
    )
    return JSONResponse({"result": result})


async def _verified_twilio_form(request: Request) -> dict[str, str] | None:
    """The form fields of a request signed by Twilio, else None. The signature covers the URL
    Twilio called: PUBLIC_BASE_URL's when set (behind a proxy), else the one that arrived."""
    settings = get_settings()
    if settings.twilio_auth_token is None:
        return None
    params = {key: str(value) for key, value in (await request.form()).items()}
    url = str(request.url)
    if settings.public_base_url:
        query = f"?{request.url.query}" if request.url.query else ""
        url = f"{settings.public_base_url.rstrip('/')}{request.url.path}{query}"
    valid = webhooks.verify_twilio(
        auth_token=settings.twilio_auth_token.get_secret_value(),
        url=url,
        params=params,
        signature=request.headers.get("x-twilio-signature", ""),
    )
    if not valid:
        log.warning("twilio webhook refused: bad signature", extra={"path": request.url.path})
    return params if valid else None


async def twilio_status(request: Request) -> Response:
    params = await _verified_twilio_form(request)
    if params is None:
        return PlainTextResponse("invalid signature", status_code=403)
    result = await run_in_threadpool(
        in_transaction,
        lambda session: webhooks.handle_twilio_status(
            session=session, params=params, now=utc_now()
        ),
    )
    return PlainTextResponse(result)


async def twilio_inbound(request: Request) -> Response:
    from twilio.twiml.messaging_response import MessagingResponse

    params = await _verified_twilio_form(request)
    if params is None:
        return PlainTextResponse("invalid signature", status_code=403)

    reply = await run_in_threadpool(
        in_transaction,
        lambda session: webhooks.handle_inbound_sms(session=session, params=params, now=utc_now()),
    )
    twiml = MessagingResponse()
    if reply.text:
        twiml.message(reply.text)  # the one confirmation, in the reply: no extra API call
    return Response(str(twiml), media_type="application/xml")


async def unsubscribe(request: Request) -> HTMLResponse:
    token = request.path_params["token"]
    if request.method == "GET":
        # Mail scanners follow links: a GET only asks, the POST (the button, or the mail
        # client's RFC 8058 one-click) unsubscribes.
        return HTMLResponse(unsubscribe_page.confirm(token))

    try:
        address = await run_in_threadpool(
            in_transaction,
            lambda session: webhooks.unsubscribe_from_link(
                session=session, token=token, now=utc_now()
            ),
        )
    except ValidationError as exc:
        return HTMLResponse(unsubscribe_page.invalid(str(exc)), status_code=404)
    return HTMLResponse(unsubscribe_page.done(address))


app = st.App(
    "frame.py",
    routes=[
        Route("/healthz", healthz, methods=["GET"]),
        Route("/webhooks/mailgun", mailgun_webhook, methods=["POST"]),
        Route("/webhooks/twilio/status", twilio_status, methods=["POST"]),
        Route("/webhooks/twilio/inbound", twilio_inbound, methods=["POST"]),
        Route("/u/{token}", unsubscribe, methods=["GET", "POST"]),
    ],
    lifespan=lifespan,
    on_script_error=friendly_error,
)
