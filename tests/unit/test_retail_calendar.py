from datetime import date

from core.campaigns.retail_calendar import (
    WEEKDAY_DEMAND,
    demand_by_day,
    nth_weekday,
    retail_moments,
    super_bowl_sunday,
    upcoming,
)
from core.models import Category


def test_nth_weekday() -> None:
    assert nth_weekday(2026, 11, 3, 4) == date(2026, 11, 26)  # Thanksgiving 2026
    assert nth_weekday(2025, 11, 3, 4) == date(2025, 11, 27)
    assert nth_weekday(2026, 5, 0, -1) == date(2026, 5, 25)  # Memorial Day
    assert nth_weekday(2026, 9, 0, 1) == date(2026, 9, 7)  # Labor Day


def test_super_bowl_moved_to_the_second_sunday_in_2022() -> None:
    assert super_bowl_sunday(2021) == date(2021, 2, 7)
    assert super_bowl_sunday(2025) == date(2025, 2, 9)
    assert super_bowl_sunday(2026) == date(2026, 2, 8)


def test_big_days_carry_what_sells() -> None:
    moments = {m.name: m for m in retail_moments(2026)}
    assert moments["Super Bowl Sunday"].categories == (Category.BEER,)
    assert moments["Thanksgiving Eve"].day == date(2026, 11, 25)
    assert Category.WINE in moments["Thanksgiving Eve"].categories
    assert moments["New Year's Eve"].demand > moments["Valentine's Day"].demand > 1
    assert moments["Christmas Day"].demand < 0.5


def test_demand_peaks_on_weekends_and_holidays() -> None:
    demand = demand_by_day(date(2026, 1, 1), date(2026, 12, 31))
    assert len(demand) == 365
    assert demand[date(2026, 3, 6)] > demand[date(2026, 3, 2)]  # a Friday beats a Monday
    assert demand[date(2026, 12, 31)] > 2 * demand[date(2026, 12, 30)] / 1.6
    assert max(WEEKDAY_DEMAND) == WEEKDAY_DEMAND[5]  # Saturday


def test_upcoming_lists_the_next_moments_in_order() -> None:
    soon = upcoming(date(2026, 11, 20), days=10)
    assert [m.name for m in soon][:2] == ["Thanksgiving run-up", "Thanksgiving Eve"]
    assert all(date(2026, 11, 20) <= m.day <= date(2026, 11, 30) for m in soon)
