"""Structured logs: one JSON object per line on stderr, carrying the request or job id."""

from __future__ import annotations

import json
import logging
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TextIO

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
job_id: ContextVar[str | None] = ContextVar("job_id", default=None)

_RESERVED = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if rid := request_id.get():
            entry["request_id"] = rid
        if jid := job_id.get():
            entry["job_id"] = jid
        entry.update({k: v for k, v in record.__dict__.items() if k not in _RESERVED})
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever `sys.stderr` is when a line is logged, not what it was when logging
    was configured: a test runner's capture, or a host that swaps the stream, may have closed
    that one since."""

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        """StreamHandler sets its stream once; the current stderr is looked up instead."""


_configured = False


def configure_logging(level: str = "INFO") -> None:
    """Send our loggers (core, jobs, app, ui, pages) to stderr as JSON lines. Idempotent."""
    global _configured
    if _configured:
        return
    handler = _StderrHandler()
    handler.setFormatter(JsonFormatter())
    for name in ("core", "jobs", "app", "ui", "pages", "rq"):
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.setLevel(level.upper())
        logger.propagate = False
    _configured = True


def new_id() -> str:
    return uuid.uuid4().hex[:12]


@contextmanager
def bound(var: ContextVar[str | None], value: str) -> Iterator[None]:
    """Attach an id (request_id or job_id) to every log line written inside the block."""
    token = var.set(value)
    try:
        yield
    finally:
        var.reset(token)
