"""The send rate shared by every worker through Redis (see `core.messaging.ratelimit`).

The booking is a Lua script that reads Redis's own clock, so workers on different machines, with
clocks a little apart, still share one schedule.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from redis import Redis

MAX_WAIT_SECONDS = 3600.0

_BOOK = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) + tonumber(now_parts[2]) / 1000000
local interval = tonumber(ARGV[1])
local count = tonumber(ARGV[2])
local next_slot = tonumber(redis.call('GET', KEYS[1]) or '0')
local start = math.max(next_slot, now)
local until_free = start + count * interval - now
redis.call('SET', KEYS[1], string.format('%.6f', start + count * interval),
           'PX', math.ceil(until_free * 1000) + 60000)
return string.format('%.6f', start - now)
"""


class RedisRateLimiter:
    def __init__(
        self,
        redis: Redis,
        key: str,
        per_minute: float,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.key = key
        self.interval = 60.0 / per_minute
        self.book = redis.register_script(_BOOK)
        self.sleep = sleep

    def acquire(self, count: int) -> float:
        wait = float(self.book(keys=[self.key], args=[f"{self.interval:.9f}", count]))
        wait = min(wait, MAX_WAIT_SECONDS)
        if wait > 0:
            self.sleep(wait)
        return wait
