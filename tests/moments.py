"""The suite's clock. Core takes "now" from its caller; tests pass these, so no result depends on
the day the suite runs (CI runs it again under a shifted clock to prove it)."""

from datetime import UTC, date, datetime, time

TODAY = date(2026, 11, 26)
"""A Thursday (Thanksgiving): the last day of every test store's order history."""
NOW = datetime.combine(TODAY, time(18), UTC)
"""Noon in Chicago, the demo store's time zone, on TODAY."""
