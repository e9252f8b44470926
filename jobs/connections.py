"""One Redis connection pool per URL, shared by the queue, the workers and the send limiter."""

from __future__ import annotations

import functools

from redis import Redis


@functools.cache
def redis_connection(url: str) -> Redis:
    return Redis.from_url(url)
