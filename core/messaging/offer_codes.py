"""Offer codes: short, readable at a till, one per message, and never the same twice.

A code is the message's id passed through a keyed permutation (a four-round Feistel network
over 30 bits, 40 past a billion messages), written in Crockford's base 32: unique because the
permutation is one-to-one, unguessable from a neighbour's code because it is keyed. Crockford's
alphabet has no I, L, O or U, and reading a code back forgives the letters a cashier confuses.
"""

from __future__ import annotations

import hashlib
import hmac

PREFIX = "LC-"
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
MISREAD = str.maketrans({"O": "0", "I": "1", "L": "1"})
SHORT_BITS, LONG_BITS = 30, 40
ROUNDS = 4
SAMPLE = "LC-7KQ2X9"
"""What a preview shows where a real message's code will be."""


def offer_code(key: bytes, message_id: int) -> str:
    """The code of message `message_id`: `LC-` and six characters (eight past 2**30 ids)."""
    if message_id < 0 or message_id >= 1 << LONG_BITS:
        raise ValueError(f"no offer code for message id {message_id}")
    bits = SHORT_BITS if message_id < 1 << SHORT_BITS else LONG_BITS
    value = _permute(key, message_id, bits)
    chars = "".join(ALPHABET[(value >> shift) & 31] for shift in range(bits - 5, -1, -5))
    return PREFIX + chars


def normalise(text: str | None) -> str | None:
    """A code as a till or a spreadsheet wrote it, in the form it is stored and matched in.

    Ours come back as `LC-XXXXXX` whatever the case, spacing, dashes or misread letters
    ("lc 7kq2x9", "LC7KQ2XQ"); any other promo code is kept, upper-cased and trimmed."""
    if text is None:
        return None
    cleaned = "".join(text.split()).upper()
    if not cleaned:
        return None
    compact = cleaned.replace("-", "")
    if compact.startswith("LC"):
        body = compact[2:].translate(MISREAD)
        if len(body) in (SHORT_BITS // 5, LONG_BITS // 5) and all(c in ALPHABET for c in body):
            return PREFIX + body
    return cleaned[:40]


def _permute(key: bytes, value: int, bits: int) -> int:
    half = bits // 2
    mask = (1 << half) - 1
    left, right = value >> half, value & mask
    for round_number in range(ROUNDS):
        digest = hmac.new(key, f"{bits}:{round_number}:{right}".encode(), hashlib.sha256).digest()
        left, right = right, left ^ (int.from_bytes(digest[:8], "big") & mask)
    return (left << half) | right
