"""Unsubscribe links, offer codes, backoff, and the in-process rate limiter."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from core.errors import ValidationError
from core.messaging.links import message_id_from, unsubscribe_token, unsubscribe_url
from core.messaging.ratelimit import LocalRateLimiter
from core.messaging.sender import backoff
from core.messaging.variables import offer_code

KEY = b"k" * 32
OLD_KEY = b"the master key that signed links before keys were derived"


def test_an_unsubscribe_link_names_its_message_and_cannot_be_forged() -> None:
    token = unsubscribe_token(KEY, 1234)
    assert message_id_from([KEY], token) == 1234
    assert unsubscribe_url("https://shop.example.com/", KEY, 1234).endswith(f"/u/{token}")
    assert message_id_from([KEY, OLD_KEY], unsubscribe_token(OLD_KEY, 99)) == 99, (
        "links sent before"
    )
    payload, signature = token.split(".")
    forged = unsubscribe_token(b"another key", 1235).split(".")
    for bad in (
        f"{forged[0]}.{signature}",
        ".".join(forged),
        f"{payload}.{signature[:-2]}",
        "nonsense",
        "",
        f"{payload}.{signature}x",
    ):
        with pytest.raises(ValidationError):
            message_id_from([KEY, OLD_KEY], bad)


def test_offer_codes_are_short_stable_and_distinct() -> None:
    codes = {offer_code(KEY, f"c1:s1:u{i}:email") for i in range(2000)}
    assert len(codes) == 2000
    assert offer_code(KEY, "c1:s1:u1:email") == offer_code(KEY, "c1:s1:u1:email")
    assert offer_code(KEY, "c1:s1:u1:email") != offer_code(OLD_KEY, "c1:s1:u1:email")
    assert all(len(c) == 8 and c.startswith("LC") for c in codes)


def test_backoff_doubles_with_jitter() -> None:
    rng = random.Random(1)
    waits = [backoff(attempt, rng) for attempt in (1, 2, 3)]
    for wait, base in zip(waits, (30, 60, 120), strict=True):
        assert timedelta(seconds=base * 0.8) <= wait <= timedelta(seconds=base * 1.2)


def test_the_local_limiter_spaces_batches_at_the_rate() -> None:
    now = [100.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    limiter = LocalRateLimiter(600, clock=lambda: now[0], sleep=sleep)  # 10 a second
    for _ in range(5):
        limiter.acquire(10)
    assert slept == pytest.approx([1.0, 1.0, 1.0, 1.0])  # the first batch goes at once
    assert now[0] == pytest.approx(104.0)


def test_the_circuit_opens_after_failures_in_a_row_and_closes_after_a_while() -> None:
    from core.messaging.routing import CircuitBreaker

    now = [0.0]
    breaker = CircuitBreaker(failures_to_open=3, open_seconds=60, clock=lambda: now[0])
    for ok in (False, False, True, False, False):
        breaker.record(ok)
    assert not breaker.is_open  # a success in between starts the count again
    breaker.record(False)
    assert breaker.is_open
    now[0] = 59.0
    assert breaker.is_open
    now[0] = 60.0
    assert not breaker.is_open  # half-open: the primary gets another try
