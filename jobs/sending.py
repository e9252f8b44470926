"""Run the sender: pick the rate limiters (shared through Redis when it is configured) and send
due messages in batches until none are left or the job's time is up."""

from __future__ import annotations

import functools
import logging
import time
import uuid
from collections.abc import Callable
from datetime import datetime

from core.config import Settings, get_settings
from core.db import session_scope, utc_now
from core.messaging import outbox
from core.messaging.ratelimit import LocalRateLimiter, RateLimiter
from core.messaging.routing import provider_for
from core.messaging.sender import BatchReport, Sender
from core.models import Channel, Message
from jobs.connections import redis_connection
from jobs.rate import RedisRateLimiter

log = logging.getLogger(__name__)

MAX_BATCH = 500


def rate_per_min(settings: Settings, channel: Channel) -> int:
    specific = (
        settings.email_rate_per_min if channel == Channel.EMAIL else settings.sms_rate_per_min
    )
    return specific or settings.send_rate_per_min


@functools.cache
def _local_limiter(channel: Channel, per_minute: int) -> LocalRateLimiter:
    return LocalRateLimiter(per_minute)


def limiter(settings: Settings, channel: Channel) -> RateLimiter:
    per_minute = rate_per_min(settings, channel)
    if settings.redis_url:
        return RedisRateLimiter(
            redis_connection(settings.redis_url),
            f"{settings.redis_namespace}:send-rate:{channel.value}",
            per_minute,
        )
    return _local_limiter(channel, per_minute)


def batch_size(settings: Settings, channel: Channel) -> int:
    """About a second's worth of the rate: small batches keep the rate even."""
    return max(1, min(MAX_BATCH, rate_per_min(settings, channel) // 60))


def find_at_provider(settings: Settings) -> Callable[[Message], str | None]:
    """Ask each message's provider whether it already has it (see release_stale_claims)."""
    providers = {channel: provider_for(channel, settings) for channel in Channel}

    def find(message: Message) -> str | None:
        since = message.claimed_at or message.created_at
        return providers[Channel(message.channel)].find(message.key, message.to_address, since)

    return find


def release_stale_claims(now: datetime) -> int:
    with session_scope() as session:
        return outbox.release_stale_claims(
            session=session, now=now, find=find_at_provider(get_settings())
        )


def send_due(*, max_seconds: float = 50.0) -> BatchReport:
    """Send due messages of both channels until none are due or `max_seconds` have passed."""
    settings = get_settings()
    sender = Sender(
        unit_of_work=session_scope,
        settings=settings,
        limiters={c: limiter(settings, c) for c in Channel},
        worker=uuid.uuid4().hex,
        clock=utc_now,
    )
    total = BatchReport()
    deadline = time.monotonic() + max_seconds
    try:
        while time.monotonic() < deadline:
            claimed = 0
            for channel in Channel:
                report = sender.send_batch(channel, batch_size(settings, channel))
                total.add(report)
                claimed += report.claimed
            if not claimed:
                break
    finally:
        sender.close()
    return total
