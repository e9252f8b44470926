"""Unsubscribes that arrive while the database is down are held, not lost.

A one-click unsubscribe is a legal duty (CAN-SPAM, RFC 8058): when the database cannot take it,
the route checks the link's signature (no database needed), holds the token here and tells the
recipient it is received. Held tokens live in Redis when the install has it (the workers' clock
applies them) and else in a file beside the data (the app's own clock applies them). Each is
applied with the time it arrived; applying one twice changes nothing.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from core.config import Settings, get_settings
from core.db import in_transaction
from core.errors import ValidationError
from core.messaging import webhooks
from jobs.connections import redis_connection

log = logging.getLogger(__name__)

FILE_NAME = "held-optouts.jsonl"


def hold(token: str, received_at: datetime, settings: Settings | None = None) -> None:
    """Keep `token` until the database is back.

    Raises:
        OSError, redis.RedisError: it could not be kept either (the route then says so).
    """
    settings = settings or get_settings()
    line = json.dumps({"token": token, "at": received_at.isoformat()})
    if settings.redis_url:
        redis_connection(settings.redis_url).rpush(_held_key(settings), line)
        return
    _append(_file(settings), line + "\n")


def apply_held(settings: Settings | None = None) -> int:
    """Apply every held unsubscribe; returns how many were applied. One that fails for a reason
    other than a bad link stays held for the next tick. Held lines are moved aside while they
    are applied and removed only after, so a crash midway applies them again next time (which
    changes nothing for those already applied)."""
    settings = settings or get_settings()
    applied, failed = 0, []
    for line in _move_aside(settings):
        held = json.loads(line)
        token, received_at = held["token"], datetime.fromisoformat(held["at"])

        def apply(session: Session, token: str = token, received_at: datetime = received_at) -> str:
            return webhooks.unsubscribe_from_link(session=session, token=token, now=received_at)

        try:
            in_transaction(apply)
            applied += 1
        except ValidationError:
            log.warning("held unsubscribe dropped: its link names no message")
        except Exception:
            log.exception("held unsubscribe not applied yet")
            failed.append(line)
    _keep_only(failed, settings)
    if applied:
        log.info("held unsubscribes applied", extra={"count": applied})
    return applied


def _held_key(settings: Settings) -> str:
    return f"{settings.redis_namespace}:held-optouts"


def _applying_key(settings: Settings) -> str:
    return f"{settings.redis_namespace}:held-optouts:applying"


def _file(settings: Settings) -> Path:
    return settings.files_dir / FILE_NAME


def _aside_file(settings: Settings) -> Path:
    return settings.files_dir / f".{FILE_NAME}.applying"


def _move_aside(settings: Settings) -> list[str]:
    """Every held line, moved where new arrivals do not go (atomically: a request arriving
    meanwhile is held anew, not lost), plus any left aside by an earlier run."""
    if settings.redis_url:
        connection = redis_connection(settings.redis_url)
        applying = _applying_key(settings)
        while connection.lmove(_held_key(settings), applying, "LEFT", "RIGHT") is not None:
            pass
        items = connection.lrange(applying, 0, -1)
        return [item.decode() if isinstance(item, bytes) else str(item) for item in items]
    held, aside = _file(settings), _aside_file(settings)
    if held.exists():
        taken = held.with_name(f".{FILE_NAME}.{os.getpid()}")
        os.replace(held, taken)
        _append(aside, taken.read_text())
        taken.unlink()
    if not aside.exists():
        return []
    return [line for line in aside.read_text().splitlines() if line.strip()]


def _append(path: Path, text: str) -> None:
    """Append to a file readable by its owner only (it holds customers' addresses' tokens)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(descriptor, "a") as handle:
        handle.write(text)


def _keep_only(lines: list[str], settings: Settings) -> None:
    """What was set aside is done with, but `lines`, which wait for the next run."""
    if settings.redis_url:
        connection = redis_connection(settings.redis_url)
        with connection.pipeline() as pipe:
            pipe.delete(_applying_key(settings))
            if lines:
                pipe.rpush(_applying_key(settings), *lines)
            pipe.execute()
        return
    aside = _aside_file(settings)
    if lines:
        aside.write_text("".join(f"{line}\n" for line in lines))
    else:
        aside.unlink(missing_ok=True)
