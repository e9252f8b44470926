"""Money is integer cents everywhere; these turn it into words for people."""

from __future__ import annotations


def format_cents(cents: int, *, whole: bool = False) -> str:
    """`123456` → `$1,234.56` (or `$1,235` with whole=True)."""
    sign = "-" if cents < 0 else ""
    dollars = abs(cents) / 100
    return f"{sign}${dollars:,.0f}" if whole else f"{sign}${dollars:,.2f}"


CENTS_SHOWN_BELOW = 1_000
"""Amounts under $10 keep their cents: a campaign that cost 9 cents did not cost "$0"."""


def format_dollars(cents: float) -> str:
    """A measured amount (possibly fractional cents) in whole dollars, `123456.4` → `$1,235`,
    or to the cent when under $10 and not nothing: `9` → `$0.09`, `0` → `$0`."""
    rounded = round(cents)
    return format_cents(rounded, whole=not 0 < abs(rounded) < CENTS_SHOWN_BELOW)
