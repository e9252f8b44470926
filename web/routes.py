"""The HTTP routes served beside the dashboard: /healthz, the providers' webhooks, the one-click
unsubscribe link, and the two that set and clear the sign-in cookie. None has a sign-in: each
request proves itself (a signature, a signed token, a one-time grant), and handlers hand their
database work to a thread so the event loop keeps serving."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.body_limit import RequestBodyLimitMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from core import auth
from core.config import get_settings
from core.db import DatabaseUnavailable, in_transaction, utc_now
from core.errors import ValidationError
from core.infra import health
from core.infra.logs import bound, new_id, request_id
from core.messaging import links, unsubscribe_page, webhooks
from jobs import held_optouts
from jobs.connections import redis_connection
from web.headers import SecurityHeaders, is_https

log = logging.getLogger(__name__)


def _ping_redis(url: str) -> None:
    redis_connection(url).ping()


async def healthz(request: Request) -> JSONResponse:
    with bound(request_id, request.headers.get("x-request-id") or new_id()):
        healthy, report = await run_in_threadpool(health.check, _ping_redis)
    return JSONResponse(report, status_code=200 if healthy else 503)


async def mailgun_webhook(request: Request) -> JSONResponse:
    settings = get_settings()
    if settings.mailgun_webhook_signing_key is None:
        return JSONResponse({"error": "MAILGUN_WEBHOOK_SIGNING_KEY is not set"}, status_code=403)
    try:
        payload = await request.json()
        signed = payload.get("signature") or {}
        event_data = payload["event-data"]
        if not isinstance(signed, dict) or not isinstance(event_data, dict):
            raise ValueError("signature and event-data must be objects")
    except (ValueError, KeyError, AttributeError):
        return JSONResponse({"error": "not a Mailgun webhook"}, status_code=400)
    token = str(signed.get("token", ""))
    if not webhooks.verify_mailgun(
        signing_key=settings.mailgun_webhook_signing_key.get_secret_value(),
        timestamp=str(signed.get("timestamp", "")),
        token=token,
        signature=str(signed.get("signature", "")),
        now=utc_now(),
    ):
        log.warning("mailgun webhook refused: bad signature")
        return JSONResponse({"error": "invalid signature"}, status_code=403)

    result = await run_in_threadpool(
        in_transaction,
        lambda session: webhooks.receive_mailgun_event(
            session=session, token=token, event_data=event_data, now=utc_now()
        ),
    )
    if result is None:
        log.warning("mailgun webhook refused: a signature replayed with other event data")
        return JSONResponse({"error": "signature already used"}, status_code=403)
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
    received_at = utc_now()
    try:
        links.message_id_from(links.accepted_link_keys(), token)  # forged links stop here
        address = await run_in_threadpool(
            in_transaction,
            lambda session: webhooks.unsubscribe_from_link(
                session=session, token=token, now=received_at
            ),
        )
    except ValidationError as exc:
        return HTMLResponse(unsubscribe_page.invalid(str(exc)), status_code=404)
    except DatabaseUnavailable:
        log.exception("unsubscribe could not reach the database: holding it")
        try:
            await run_in_threadpool(held_optouts.hold, token, received_at)
        except Exception:
            log.exception("unsubscribe could not be held either")
            return HTMLResponse(unsubscribe_page.unavailable(), status_code=503)
        return HTMLResponse(unsubscribe_page.received(), status_code=202)
    return HTMLResponse(unsubscribe_page.done(address))


PIXEL = bytes.fromhex(
    "47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b"
)
"""A transparent 1×1 GIF: the cookie routes are loaded as images by the dashboard's pages."""
NO_STORE = {"Cache-Control": "no-store"}


def _same_origin(request: Request) -> bool:
    """Browsers say where a request comes from (Sec-Fetch-Site); only our own pages may ask for
    the cookie, so another site cannot sign a visitor in as somebody else."""
    return request.headers.get("sec-fetch-site", "same-origin") == "same-origin"


async def collect_cookie(request: Request) -> Response:
    """A signed-in page's browser trades its one-time grant for the session cookie: HttpOnly
    (no script reads it), SameSite=Lax, Secure behind https."""
    grant = request.query_params.get("grant", "")
    token = None
    if grant and _same_origin(request):
        token = await run_in_threadpool(
            in_transaction,
            lambda session: auth.redeem_grant(session=session, grant=grant, now=utc_now()),
        )
    if token is None:
        return Response(status_code=403, headers=NO_STORE)
    response = Response(PIXEL, media_type="image/gif", headers=NO_STORE)
    response.set_cookie(
        auth.COOKIE_NAME, token, httponly=True, samesite="lax", secure=is_https(request.scope)
    )
    return response


async def forget_cookie(request: Request) -> Response:
    """After sign-out: the session the cookie names ends (if it has not already) and the
    browser drops the cookie."""
    token = request.cookies.get(auth.COOKIE_NAME)
    if token and _same_origin(request):
        await run_in_threadpool(
            in_transaction,
            lambda session: auth.end_session_of_token(session=session, token=token, now=utc_now()),
        )
    response = Response(PIXEL, media_type="image/gif", headers=NO_STORE)
    response.delete_cookie(auth.COOKIE_NAME, httponly=True, samesite="lax")
    return response


MAX_BODY_BYTES = 256 * 1024
"""No webhook or form here comes near it; a bigger body is refused (413) before it is parsed."""


def _route(path: str, endpoint: Callable[[Request], Awaitable[Response]], *methods: str) -> Route:
    return Route(
        path,
        endpoint,
        methods=list(methods),
        middleware=[
            Middleware(SecurityHeaders),
            Middleware(RequestBodyLimitMiddleware, max_body_size=MAX_BODY_BYTES),
        ],
    )


ROUTES = [
    _route("/healthz", healthz, "GET"),
    _route("/webhooks/mailgun", mailgun_webhook, "POST"),
    _route("/webhooks/twilio/status", twilio_status, "POST"),
    _route("/webhooks/twilio/inbound", twilio_inbound, "POST"),
    _route("/u/{token}", unsubscribe, "GET", "POST"),
    _route("/auth/cookie", collect_cookie, "GET"),
    _route("/auth/forget", forget_cookie, "GET"),
]
