"""Age: alcohol marketing reaches only people 21 or older (../shared/COMPLIANCE.md)."""

from __future__ import annotations

from datetime import date

LEGAL_DRINKING_AGE = 21


def age_on(birth_date: date, day: date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def is_adult(birth_date: date | None, day: date) -> bool:
    """21 or older on `day`. No birth date means we cannot say so."""
    return birth_date is not None and age_on(birth_date, day) >= LEGAL_DRINKING_AGE


def years_ago(today: date, years: int) -> date:
    """The same day `years` years back (28 February for 29 February in a common year)."""
    try:
        return today.replace(year=today.year - years)
    except ValueError:
        return date(today.year - years, 2, 28)


def adult_birth_cutoff(today: date) -> date:
    """Born on or before this day: 21 or older today."""
    return years_ago(today, LEGAL_DRINKING_AGE)
