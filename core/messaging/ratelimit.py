"""A send rate: one schedule of slots, `rate` per minute.

Each `acquire(n)` books the next n slots and sleeps until the first is due (the virtual-scheduling
form of GCRA). Booking is atomic: here by a lock, for the senders of one process; with Redis,
`jobs.rate.RedisRateLimiter` keeps the same schedule for every worker.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol


class RateLimiter(Protocol):
    def acquire(self, count: int) -> float:
        """Wait until `count` more sends fit the rate; the seconds waited."""
        ...


class LocalRateLimiter:
    def __init__(
        self,
        per_minute: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = 60.0 / per_minute
        self.clock = clock
        self.sleep = sleep
        self.lock = threading.Lock()
        self.next_slot = 0.0

    def acquire(self, count: int) -> float:
        with self.lock:
            now = self.clock()
            start = max(self.next_slot, now)
            self.next_slot = start + count * self.interval
        wait = start - now
        if wait > 0:
            self.sleep(wait)
        return wait
