"""Money is integer cents everywhere; these turn it into words for people."""

from __future__ import annotations


def format_cents(cents: int, *, whole: bool = False) -> str:
    """`123456` → `$1,234.56` (or `$1,235` with whole=True)."""
    sign = "-" if cents < 0 else ""
    dollars = abs(cents) / 100
    return f"{sign}${dollars:,.0f}" if whole else f"{sign}${dollars:,.2f}"


def format_dollars(cents: float) -> str:
    """A measured amount (possibly fractional cents) in whole dollars: `123456.4` → `$1,235`."""
    return format_cents(round(cents), whole=True)
