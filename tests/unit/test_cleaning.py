from datetime import date
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from core.imports import cleaning

TODAY = date(2026, 11, 26)


def series(*values: str) -> pd.Series:
    return pd.Series(list(values), dtype="str")


def as_list(values: pd.Series) -> list:
    return [None if pd.isna(v) else v for v in values]


def test_email() -> None:
    result = cleaning.email(series("Bob@Example.COM", "bad@", "", "a..b@x.com", "x@y.co", "no at"))
    assert as_list(result.values) == ["bob@example.com", None, None, None, "x@y.co", None]
    assert list(result.errors != "") == [False, True, False, True, False, True]


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("(312) 555-0123", "+13125550123"),
        ("312.555.0123 x12", "+13125550123"),
        ("1-312-555-0123", "+13125550123"),
        ("+1 312 555 0123", "+13125550123"),
        ("+44 20 7946 0958", "+442079460958"),
        ("123", None),
        ("(012) 555-0123", None),
        ("", None),
    ],
)
def test_phone(raw: str, e164: str | None) -> None:
    result = cleaning.phone(series(raw))
    assert as_list(result.values) == [e164]
    assert (result.errors[0] != "") == (e164 is None and raw != "")


def test_dates_pick_the_column_format_and_check_the_range() -> None:
    result = cleaning.dates(
        series("3/31/1990", "12/01/1985", "", "13/13/2000", "2030-01-01", "1/1/1800"), today=TODAY
    )
    assert as_list(result.values) == [date(1990, 3, 31), date(1985, 12, 1), None, None, None, None]
    assert list(result.errors) == [
        "",
        "",
        "",
        "not a date we can read (e.g. 2024-03-31 or 3/31/2024)",
        "is in the future",
        "is before 1900",
    ]


def test_day_first_dates_when_the_column_says_so() -> None:
    assert as_list(cleaning.dates(series("31.03.1990", "01.12.1985"), today=TODAY).values) == [
        date(1990, 3, 31),
        date(1985, 12, 1),
    ]


def test_moments_are_store_local_times_stored_in_utc() -> None:
    now = pd.Timestamp("2026-11-26 12:00", tz="UTC")
    result = cleaning.moments(
        series("2026-03-31 18:30", "11/21/2026 5:15 PM", "2027-01-01", ""),
        zone=ZoneInfo("America/Chicago"),
        now=now,
    )
    values = result.values
    assert values[0] == pd.Timestamp("2026-03-31 23:30", tz="UTC")  # CDT is UTC−5
    assert values[1] == pd.Timestamp("2026-11-21 23:15", tz="UTC")  # CST is UTC−6
    assert pd.isna(values[2]) and result.errors[2] == "is in the future"
    assert pd.isna(values[3]) and result.errors[3] == ""


def test_local_times_the_clocks_passed_twice_or_skipped_are_kept() -> None:
    """Chicago's clocks went back at 2:00 on 2025-11-02 (1:30 came twice) and sprang forward
    at 2:00 on 2026-03-08 (2:30 never came)."""
    result = cleaning.moments(
        series("2025-11-02 01:30", "2026-03-08 02:30", "2025-11-02 03:30"),
        zone=ZoneInfo("America/Chicago"),
        now=pd.Timestamp("2026-11-26 12:00", tz="UTC"),
    )
    assert list(result.values) == [
        pd.Timestamp("2025-11-02 06:30", tz="UTC"),  # the first 1:30, still CDT (UTC−5)
        pd.Timestamp("2026-03-08 08:00", tz="UTC"),  # 3:00 CDT, the moment after the jump
        pd.Timestamp("2025-11-02 09:30", tz="UTC"),
    ]
    assert list(result.errors) == ["", "", ""]
    assert result.doubts is not None
    assert list(result.doubts) == [
        "this time came twice that night (the clocks went back): read as the first",
        "",
        "",
    ]


def test_money() -> None:
    result = cleaning.money(series("$1,234.50", "(12.00)", "abc", "", "-3", "7"))
    assert as_list(result.values) == [123450, None, None, None, None, 700]
    assert list(result.errors) == ["", "is negative", "not an amount", "", "is negative", ""]


def test_flags_states_zips_and_whole_numbers() -> None:
    flags = cleaning.flag(series("Yes", "n", "maybe", "", "X", "Subscribed"))
    assert as_list(flags.values) == [True, False, None, None, True, True]
    assert flags.errors[2] == "not yes or no"
    states = cleaning.state(series("il", "Illinois", "Narnia", ""))
    assert list(states.values) == ["IL", "IL", "", ""] and states.errors[2] == "not a US state"
    zips = cleaning.zip_code(
        series("60622-1234", "2134", "abc", "", " 60622 ", "1234", "123456", "2134-1234")
    )
    assert list(zips.values) == ["60622", "02134", "", "", "60622", "", "", "02134"]
    # A restored leading zero is loaded and said, with or without the +4 suffix.
    doubt = "read as 02134 (a leading zero lost?): check it"
    assert zips.doubts is not None
    assert list(zips.doubts) == ["", doubt, "", "", "", "", "", doubt]
    assert zips.errors[2] == "not a US ZIP code" and zips.errors[6] == "not a US ZIP code"
    # 2134 is Allston's 02134 without its leading zero; 01234 is no ZIP code at all.
    assert zips.errors[5] == "not a 5-digit US ZIP code"
    numbers = cleaning.whole_number(series("2", "0", "1.5", "", "x"), minimum=1)
    assert as_list(numbers.values) == [2, None, None, None, None]
    assert list(numbers.errors != "") == [False, True, True, False, True]


def test_text_length() -> None:
    result = cleaning.text(series("ok", "x" * 11, ""), max_length=10)
    assert as_list(result.values) == ["ok", "x" * 11, None]
    assert list(result.errors) == ["", "longer than 10 characters", ""]


def test_time_zones_from_zip_state_or_phone() -> None:
    zones = cleaning.time_zones(
        series("60622", "32501", "", "", "79901"),
        series("IL", "", "TX", "", ""),
        pd.Series([None, None, None, "+13055550123", None], dtype=object),
    )
    assert list(zones) == [
        "America/Chicago",
        "America/Chicago",  # Pensacola: the Florida panhandle runs on Central time
        "America/Chicago",
        "America/New_York",  # a Miami number
        "America/Denver",  # El Paso
    ]


def test_places_from_the_zip_table() -> None:
    found = cleaning.places(series("60201", "32501", "", "99999"))
    assert list(found["city"]) == ["Evanston", "Pensacola", None, None]
    assert list(found["state"]) == ["IL", "FL", None, None]
    assert list(found["timezone"]) == ["America/Chicago", "America/Chicago", None, None]


def test_split_full_name() -> None:
    first, last = cleaning.split_full_name(series("Ana Maria Lopez", "Lopez, Ana", "Cher", ""))
    assert list(first) == ["Ana Maria", "Ana", "Cher", ""]
    assert list(last) == ["Lopez", "Lopez", "", ""]
