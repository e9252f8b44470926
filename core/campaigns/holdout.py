"""Who of a campaign's audience is kept back as its control group.

The draw is a hash of the campaign and the customer, not a random number: the same customers
are held out at every step and every time a step is written again, and anyone can recompute it.
"""

from __future__ import annotations

import hashlib

SCALE = 10_000


def held_out(campaign_id: int, customer_id: int, percent: int) -> bool:
    """Whether `customer_id` is in the control group of a campaign keeping back `percent` %."""
    if percent <= 0:
        return False
    digest = hashlib.sha256(f"holdout:{campaign_id}:{customer_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % SCALE < percent * SCALE // 100
