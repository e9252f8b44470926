"""The liquor retail calendar: the days that move a store's sales, and what sells on them.

Used by the demo store's seasonality and by the planner to time campaigns.
"""

from __future__ import annotations

import calendar as _cal
from dataclasses import dataclass
from datetime import date, timedelta

from core.models import Category


@dataclass(frozen=True)
class RetailMoment:
    """A day that shifts demand. `demand` multiplies a normal day's sales for that weekday."""

    name: str
    day: date
    demand: float
    categories: tuple[Category, ...] = ()
    """What shoppers reach for; empty means everything."""


def nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The n-th given weekday of a month (n = -1 for the last). Monday is 0."""
    if n > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    last = date(year, month, _cal.monthrange(year, month)[1])
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def super_bowl_sunday(year: int) -> date:
    """Second Sunday of February since the 2022 season change (first Sunday before)."""
    return nth_weekday(year, 2, _cal.SUNDAY, 2 if year >= 2022 else 1)


def retail_moments(year: int) -> list[RetailMoment]:
    """Every demand-shifting day in a calendar year, including the run-up to the big ones."""
    W, B, S = Category.WINE, Category.BEER, Category.SPIRITS
    thanksgiving = nth_weekday(year, 11, _cal.THURSDAY, 4)
    super_bowl = super_bowl_sunday(year)
    memorial = nth_weekday(year, 5, _cal.MONDAY, -1)
    labor = nth_weekday(year, 9, _cal.MONDAY, 1)
    moments = [
        RetailMoment("New Year's Day", date(year, 1, 1), 0.5),
        RetailMoment("Super Bowl weekend (Friday)", super_bowl - timedelta(days=2), 1.5, (B,)),
        RetailMoment("Super Bowl weekend (Saturday)", super_bowl - timedelta(days=1), 1.9, (B, S)),
        RetailMoment("Super Bowl Sunday", super_bowl, 1.6, (B,)),
        RetailMoment("Valentine's Day", date(year, 2, 14), 1.6, (W,)),
        RetailMoment("Valentine's Eve", date(year, 2, 13), 1.3, (W,)),
        RetailMoment("St. Patrick's Day", date(year, 3, 17), 1.6, (B, S)),
        RetailMoment("Cinco de Mayo", date(year, 5, 5), 1.5, (B, S)),
        RetailMoment("Memorial Day weekend", memorial - timedelta(days=3), 1.5, (B,)),
        RetailMoment("Memorial Day weekend", memorial - timedelta(days=2), 1.4, (B,)),
        RetailMoment(
            "Father's Day", nth_weekday(year, 6, _cal.SUNDAY, 3) - timedelta(days=1), 1.4, (S,)
        ),
        RetailMoment("Fourth of July run-up", date(year, 7, 2), 1.5, (B,)),
        RetailMoment("Fourth of July run-up", date(year, 7, 3), 2.0, (B,)),
        RetailMoment("Fourth of July", date(year, 7, 4), 1.3, (B,)),
        RetailMoment("Labor Day weekend", labor - timedelta(days=3), 1.5, (B,)),
        RetailMoment("Labor Day weekend", labor - timedelta(days=2), 1.4, (B,)),
        RetailMoment("Halloween", date(year, 10, 31), 1.3, (S,)),
        RetailMoment("Thanksgiving run-up", thanksgiving - timedelta(days=2), 1.8, (W,)),
        RetailMoment("Thanksgiving Eve", thanksgiving - timedelta(days=1), 2.6, (W, S)),
        RetailMoment("Thanksgiving", thanksgiving, 0.6, (W,)),
        RetailMoment("Christmas Eve", date(year, 12, 24), 2.2, (W, S)),
        RetailMoment("Christmas Day", date(year, 12, 25), 0.1),
        RetailMoment("New Year's Eve", date(year, 12, 31), 3.0, (W, S)),
    ]
    # The holiday shopping stretch: gifts and parties lift every December day before Christmas.
    moments += [
        RetailMoment("Holiday shopping", date(year, 12, d), 1.35, (S, W)) for d in range(10, 24)
    ]
    moments += [RetailMoment("Holiday week", date(year, 12, d), 1.6, (W,)) for d in range(26, 31)]
    return moments


MONTH_DEMAND = {
    1: 0.82,
    2: 0.9,
    3: 0.95,
    4: 0.97,
    5: 1.03,
    6: 1.05,
    7: 1.08,
    8: 1.03,
    9: 0.97,
    10: 1.0,
    11: 1.05,
    12: 1.2,
}
"""Seasonal level by month: a dry January, a summer lift, a December peak."""

WEEKDAY_DEMAND = (0.62, 0.7, 0.82, 1.05, 1.55, 1.75, 0.95)
"""Monday to Sunday: liquor sells on Friday and Saturday."""


def demand_by_day(start: date, end: date) -> dict[date, float]:
    """Relative demand for each day in [start, end]: weekday × month × retail moments."""
    moments: dict[date, float] = {}
    for year in range(start.year, end.year + 1):
        for moment in retail_moments(year):
            moments[moment.day] = max(moments.get(moment.day, 0.0), moment.demand)
    days = (end - start).days + 1
    result = {}
    for offset in range(days):
        day = start + timedelta(days=offset)
        base = WEEKDAY_DEMAND[day.weekday()] * MONTH_DEMAND[day.month]
        result[day] = base * moments.get(day, 1.0)
    return result


def upcoming(start: date, days: int = 14) -> list[RetailMoment]:
    """Retail moments in the next `days` days, soonest first."""
    end = start + timedelta(days=days)
    found = [
        m
        for year in range(start.year, end.year + 1)
        for m in retail_moments(year)
        if start <= m.day <= end
    ]
    return sorted(found, key=lambda m: m.day)
