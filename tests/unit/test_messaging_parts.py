"""Unsubscribe links, offer codes, backoff, and the in-process rate limiter."""

from __future__ import annotations

import itertools
import random
import re
from datetime import timedelta

import pytest

from core.errors import ValidationError
from core.messaging.links import message_id_from, unsubscribe_token, unsubscribe_url
from core.messaging.offer_codes import normalise, offer_code
from core.messaging.ratelimit import LocalRateLimiter
from core.messaging.sender import backoff

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


def test_offer_codes_are_short_stable_distinct_and_keyed() -> None:
    ids = [*range(1, 20_001), 2**30 - 1, 2**30, 2**40 - 1]
    codes = [offer_code(KEY, i) for i in ids]
    assert len(set(codes)) == len(ids)  # one-to-one: never the same code twice
    assert offer_code(KEY, 7) == offer_code(KEY, 7) and offer_code(KEY, 7) != offer_code(OLD_KEY, 7)
    assert all(re.fullmatch(r"LC-[0-9A-HJKMNP-TV-Z]{6}", c) for c in codes[:-2])
    assert all(re.fullmatch(r"LC-[0-9A-HJKMNP-TV-Z]{8}", c) for c in codes[-2:])
    # Neighbours do not look like neighbours.
    assert sum(a[3:5] == b[3:5] for a, b in itertools.pairwise(codes[:1000])) < 20
    with pytest.raises(ValueError):
        offer_code(KEY, 2**40)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("LC-7KQ2X9", "LC-7KQ2X9"),
        ("lc-7kq2x9", "LC-7KQ2X9"),
        (" LC 7KQ2 X9 ", "LC-7KQ2X9"),
        ("LC7KQ2XO", "LC-7KQ2X0"),  # the letter O read as the digit it stands for
        ("lc-ikq2x9", "LC-1KQ2X9"),
        ("LC-7KQ2X9AB", "LC-7KQ2X9AB"),
        ("summer10", "SUMMER10"),  # the store's own codes are kept as they are
        ("LC-7KQ", "LC-7KQ"),
        ("", None),
        ("   ", None),
        (None, None),
    ],
)
def test_codes_read_back_from_a_till_in_the_stored_form(typed: str | None, stored: str) -> None:
    assert normalise(typed) == stored


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
