"""Health of the things the app depends on, for /healthz and monitoring."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import text

import core
from core.config import get_settings
from core.db import get_engine

log = logging.getLogger(__name__)


def check(redis_ping: Callable[[str], Any] | None = None) -> tuple[bool, dict[str, str]]:
    """Ask the database (and Redis when configured) whether they answer.

    Args:
        redis_ping: pings the Redis at the given URL; passed in so core need not import redis.

    Returns:
        (healthy, report). Healthy means the database answers; Redis trouble degrades but does
        not fail the app, which can still serve pages. Details go to the log, never the report.
    """
    report = {
        "status": "ok",
        "database": "ok",
        "redis": "not configured",
        "version": core.__version__,
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
