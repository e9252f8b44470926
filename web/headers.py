"""Security headers on the app's own HTTP routes (Streamlit sets its pages' headers itself).

The routes answer providers (JSON, XML), browsers loading a 1×1 image, and the unsubscribe
page, whose only needs are its inline style and a form posting back to itself: the policy
allows that and nothing else, no page may frame them, and no address leaks in a Referer.
"""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.config import get_settings

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
HSTS = "max-age=31536000"
"""Sent only over https (directly, or as the TLS proxy says in X-Forwarded-Proto)."""


def is_https(scope: Scope) -> bool:
    public = get_settings().public_base_url or ""
    forwarded = Headers(scope=scope).get("x-forwarded-proto", "")
    return scope.get("scheme") == "https" or forwarded == "https" or public.startswith("https://")


class SecurityHeaders:
    """ASGI middleware adding `SECURITY_HEADERS` (and HSTS behind TLS) to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = is_https(scope)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                if https:
                    headers.setdefault("Strict-Transport-Security", HSTS)
            await send(message)

        await self.app(scope, receive, send_with_headers)
