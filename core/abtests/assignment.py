"""Which variant of a test a customer gets: a hash of the test and the customer, so the same
customer gets the same variant on every retry, resend and rewrite, and the shares follow the
weights."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from itertools import accumulate

from core.errors import ValidationError

SCALE = 2**64


def variant_for(test_id: int, customer_id: int, weights: Sequence[float]) -> int:
    """The index of the variant `customer_id` gets in test `test_id`, variants weighted by
    `weights` (any positive numbers: 50/50 is (1, 1) or (50, 50))."""
    if len(weights) < 2 or any(w <= 0 for w in weights):
        raise ValidationError("A test needs two or more variants, each with a positive weight.")
    digest = hashlib.sha256(f"abtest:{test_id}:{customer_id}".encode()).digest()
    point = int.from_bytes(digest[:8], "big") / SCALE * sum(weights)
    return next(i for i, edge in enumerate(accumulate(weights)) if point < edge)


def in_test(test_id: int, customer_id: int, percent: int) -> bool:
    """Whether the customer is in the part of the audience the test runs on (`percent` of it);
    the others wait for the winner. Drawn apart from the variant, so the two do not correlate."""
    if percent >= 100:
        return True
    digest = hashlib.sha256(f"abtest-share:{test_id}:{customer_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / SCALE * 100 < percent
