"""Health of the things the app depends on, for /healthz and monitoring."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import text

import core
from core.config import Settings, get_settings
from core.db import get_engine
from core.infra import keys
from core.messaging.routing import why_held
from core.models import Channel

log = logging.getLogger(__name__)


def check(redis_ping: Callable[[str], Any] | None = None) -> tuple[bool, dict[str, Any]]:
    """Ask the database (and Redis when configured) whether they answer.

    Args:
        redis_ping: pings the Redis at the given URL; passed in so core need not import redis.

    Returns:
        (healthy, report). Healthy means the database answers; Redis trouble degrades but does
        not fail the app, which can still serve pages. Details go to the log, never the report.
    """
    report: dict[str, Any] = {
        "status": "ok",
        "database": "ok",
        "redis": "not configured",
        "version": core.__version__,
        "warnings": go_live_warnings(),
    }
    healthy = True
    try:
        with get_engine().connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:
        log.exception("health check: database unavailable")
        report["database"] = "unavailable"
        report["status"] = "down"
        healthy = False
    redis_url = get_settings().redis_url
    if redis_url and redis_ping is not None:
        try:
            redis_ping(redis_url)
            report["redis"] = "ok"
        except Exception:
            log.exception("health check: redis unavailable")
            report["redis"] = "unavailable"
            if healthy:
                report["status"] = "degraded"
    return healthy, report


def go_live_warnings(settings: Settings | None = None) -> list[str]:
    """What to set before real customers are messaged. Each is fine for trying the app on one
    machine; the Store page, /healthz and the start-up log say them."""
    settings = settings or get_settings()
    warnings = []
    if keys.uses_generated_key(settings):
        warnings.append(
            f"SECRET_KEY is not set: links are signed with a key generated on this machine "
            f"({keys.key_file(settings)}). Set SECRET_KEY before going live."
        )
    warnings += [
        f"{name} is a placeholder, so it is ignored: set the real value."
        for name in settings.ignored_placeholders
    ]
    warnings += [reason for channel in Channel if (reason := why_held(channel, settings))]
    if settings.mailgun_api_key and not settings.mailgun_webhook_signing_key:
        warnings.append(
            "MAILGUN_WEBHOOK_SIGNING_KEY is not set: Mailgun's delivery events, complaints and "
            "unsubscribes are refused until it is."
        )
    return warnings
