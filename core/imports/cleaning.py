"""Vectorised cleaning of imported columns: whole pandas Series at a time, never row by row.

Every cleaner takes a Series of stripped strings ('' for blank) and returns a `Cleaned`: the
clean values (None/NaT/<NA> for blank) and, per row, an error message ('' when fine). The rules
match core.customers.contact_details, which checks single values typed into forms.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import phonenumbers

from core.customers import zip_codes
from core.customers.contact_details import (
    STATE_CODES,
    STATE_NAMES,
    STATE_ZONES,
    ZIP3_STATE,
    ZIP_ZONE_EXCEPTIONS,
    phone_timezone,
)
from core.messaging import offer_codes


@dataclass(frozen=True)
class Cleaned:
    values: pd.Series
    errors: pd.Series
    """One message per row; '' where the value is fine or blank."""
    doubts: pd.Series | None = None
    """Where a value was taken but may be wrong, why; '' elsewhere (None: no such case)."""


def _no_errors(series: pd.Series) -> pd.Series:
    return pd.Series("", index=series.index, dtype=object)


def _errors_where(mask: pd.Series, series: pd.Series, message: str) -> pd.Series:
    errors = _no_errors(series)
    errors[mask] = message
    return errors


def text(series: pd.Series, *, max_length: int) -> Cleaned:
    too_long = series.str.len() > max_length
    return Cleaned(
        series.where(series != ""),
        _errors_where(too_long, series, f"longer than {max_length} characters"),
    )


def promo_code(series: pd.Series) -> Cleaned:
    """Promo and coupon codes in the form they are matched in (our offer codes forgive a
    cashier's spacing, case and misread letters); only the rows that carry one are looked at."""
    cleaned = text(series, max_length=40)
    given = cleaned.values.notna()
    codes = cleaned.values.astype(object)
    codes[given] = cleaned.values[given].map(offer_codes.normalise)
    return Cleaned(codes.where(codes.notna(), None), cleaned.errors)


# A pragmatic address check (local@domain.tld); core.customers.contact_details does the full
# RFC check on forms.
EMAIL = (
    r"^[a-z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
    r"(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.[a-z]{2,}$"
)
"""Patterns here are plain strings without \\s or \\d, so pandas runs them in its Arrow (RE2)
string kernels instead of a Python loop per value."""


def email(series: pd.Series) -> Cleaned:
    lowered = series.str.lower()
    blank = lowered == ""
    bad = ~blank & (~lowered.str.match(EMAIL) | lowered.str.contains("..", regex=False))
    return Cleaned(
        lowered.where(~blank & ~bad, None),
        _errors_where(bad, series, "not a valid email address"),
    )


NANP = r"[2-9][0-9]{2}[2-9][0-9]{6}"
"""US/Canada numbers: area code and exchange never start with 0 or 1."""


def phone(series: pd.Series) -> Cleaned:
    """E.164. North American numbers are handled in bulk (string kernels, no Python loop),
    anything else by phonenumbers one at a time."""
    blank = series == ""
    number = series.str.replace(r"(?i)[ \t]*(?:ext|x)\.?[ \t]*[0-9]+$", "", regex=True)
    plus = number.str.startswith("+")
    digits = number.str.replace(r"[^0-9]", "", regex=True)
    national = digits.str.replace(r"^1([0-9]{10})$", r"\1", regex=True)
    north_american = national.str.fullmatch(NANP) & (~plus | digits.str.startswith("1"))
    values = ("+1" + national).where(north_american, None)
    rest = ~blank & values.isna()
    for index in series.index[rest]:
        values[index] = _international(series[index])
    bad = ~blank & values.isna()
    return Cleaned(values, _errors_where(bad, series, "not a valid phone number"))


def _international(value: str) -> str | None:
    try:
        number = phonenumbers.parse(value, "US")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


DATE_FORMATS = (
    "ISO8601",
    "%m/%d/%Y",
    "%m/%d/%y",
    "%d/%m/%Y",
    "%m-%d-%Y",
    "%d.%m.%Y",
    "%Y/%m/%d",
    "%b %d, %Y",
    "%d %b %Y",
    "%B %d, %Y",
    "%Y%m%d",
)
"""Tried in order on a sample; the US month/day order wins a tie with day/month."""
TIME_SUFFIXES = ("", " %H:%M", " %H:%M:%S", " %I:%M %p", " %I:%M:%S %p", " %I:%M%p")


def _best_format(values: pd.Series) -> str | None:
    sample = values[values != ""].head(500)
    if sample.empty:
        return None
    best, best_count = None, 0
    for base in DATE_FORMATS:
        for suffix in ("",) if base == "ISO8601" else TIME_SUFFIXES:
            fmt = base + suffix
            count = pd.to_datetime(sample, format=fmt, errors="coerce").notna().sum()
            if count > best_count:
                best, best_count = fmt, count
        if best_count == len(sample):
            break
    return best


def timestamps(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse with the format most of the column uses; stragglers get a slower second chance.

    Returns:
        (naive or aware datetimes with NaT for blank/unreadable, mask of unreadable values)
    """
    blank = series == ""
    fmt = _best_format(series)
    parsed = pd.Series(pd.NaT, index=series.index, dtype="datetime64[ns]")
    if fmt is not None:
        parsed = pd.to_datetime(series.where(~blank), format=fmt, errors="coerce")
        if isinstance(parsed.dtype, pd.DatetimeTZDtype):
            parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    stragglers = ~blank & parsed.isna()
    if stragglers.any():
        retry = pd.to_datetime(series[stragglers], format="mixed", errors="coerce", utc=True)
        parsed[stragglers] = retry.dt.tz_localize(None)
    return parsed, ~blank & parsed.isna()


def dates(series: pd.Series, *, today: date, allow_future: bool = False) -> Cleaned:
    parsed, unreadable = timestamps(series)
    days = pd.Series(np.where(parsed.notna(), parsed.dt.date, None), index=series.index)
    future = parsed.notna() & (parsed.dt.normalize() > pd.Timestamp(today)) & (not allow_future)
    ancient = parsed.notna() & (parsed.dt.year < 1900)
    errors = _no_errors(series)
    errors[unreadable] = "not a date we can read (e.g. 2024-03-31 or 3/31/2024)"
    errors[future] = "is in the future"
    errors[ancient] = "is before 1900"
    return Cleaned(days.where(errors == "", None), errors)


def moments(series: pd.Series, *, zone: ZoneInfo, now: pd.Timestamp) -> Cleaned:
    """Date-times in UTC. Times without a zone are read as the store's local time.

    A local time the clocks passed twice (the hour they go back) is read as the first, and
    said; one they skipped (the hour they spring forward) as the moment after the jump."""
    parsed, unreadable = timestamps(series)
    first = np.ones(len(parsed), dtype=bool)  # True: the daylight-saving reading, the earlier
    local = parsed.dt.tz_localize(zone, ambiguous=first, nonexistent="shift_forward")
    twice = (
        parsed.notna()
        & parsed.dt.tz_localize(zone, ambiguous="NaT", nonexistent="shift_forward").isna()
    )
    utc = local.dt.tz_convert("UTC")
    future = utc.notna() & (utc > now + pd.Timedelta(days=1))
    errors = _no_errors(series)
    errors[unreadable] = "not a date we can read (e.g. 2024-03-31 18:30 or 3/31/2024)"
    errors[future] = "is in the future"
    doubts = _no_errors(series)
    doubts[twice & (errors == "")] = (
        "this time came twice that night (the clocks went back): read as the first"
    )
    return Cleaned(utc.where(errors == ""), errors, doubts)


def money(series: pd.Series, *, allow_negative: bool = False) -> Cleaned:
    """'$1,234.50' → 123450 cents; '(12.00)' is negative, as accountants write it."""
    blank = series == ""
    negative_parens = series.str.match(r"^\(.*\)$")
    cleaned = series.str.replace(r"[ \t$,()]", "", regex=True)
    amount = pd.to_numeric(cleaned.where(~blank), errors="coerce")
    amount = amount.where(~negative_parens, -amount)
    unreadable = ~blank & amount.isna()
    negative = (amount < 0) & (not allow_negative)
    cents = (amount * 100).round().astype("Int64")
    errors = _no_errors(series)
    errors[unreadable] = "not an amount"
    errors[negative] = "is negative"
    return Cleaned(cents.where(errors == ""), errors)


def whole_number(series: pd.Series, *, minimum: int) -> Cleaned:
    blank = series == ""
    number = pd.to_numeric(series.where(~blank), errors="coerce")
    bad = ~blank & (number.isna() | (number % 1 != 0) | (number < minimum))
    return Cleaned(
        number.where(~bad).astype("Int64"),
        _errors_where(bad, series, f"not a whole number of at least {minimum}"),
    )


TRUE_WORDS = {"1", "y", "yes", "true", "t", "x", "opt in", "opt-in", "opted in", "subscribed", "on"}
FALSE_WORDS = {
    "0",
    "n",
    "no",
    "false",
    "f",
    "opt out",
    "opt-out",
    "opted out",
    "unsubscribed",
    "off",
}


def flag(series: pd.Series) -> Cleaned:
    lowered = series.str.lower()
    values = pd.Series(pd.NA, index=series.index, dtype="boolean")
    values[lowered.isin(TRUE_WORDS)] = True
    values[lowered.isin(FALSE_WORDS)] = False
    bad = (lowered != "") & values.isna()
    return Cleaned(values, _errors_where(bad, series, "not yes or no"))


def state(series: pd.Series) -> Cleaned:
    upper = series.str.upper()
    codes = upper.where(upper.isin(STATE_NAMES), upper.map(STATE_CODES))
    bad = (upper != "") & codes.isna()
    return Cleaned(codes.fillna(""), _errors_where(bad, series, "not a US state"))


def zip_code(series: pd.Series) -> Cleaned:
    """'60622-1234' → '60622'. Five digits, except that a 3- or 4-digit code that is a real ZIP
    once padded ('2134' → '02134') is one whose leading zeros a spreadsheet dropped."""
    first = series.str.replace(r"[ \t]*-.*$", "", regex=True).str.replace(" ", "", regex=False)
    padded = first.str.pad(5, side="left", fillchar="0")
    ok = first.str.fullmatch(r"[0-9]{5}").fillna(False)
    short = first.str.fullmatch(r"[0-9]{3,4}").fillna(False)
    ok[short] = zip_codes.is_known(padded[short])  # only the few short ones are looked up
    bad = (first != "") & ~ok
    errors = _errors_where(bad, series, "not a US ZIP code")
    errors[bad & first.str.fullmatch(r"[0-9]{1,4}")] = "not a 5-digit US ZIP code"
    doubts = _no_errors(series)
    restored = short & ok
    doubts[restored] = "read as " + padded[restored] + " (a leading zero lost?): check it"
    return Cleaned(padded.where(ok, ""), errors, doubts)


def places(zips: pd.Series) -> pd.DataFrame:
    """city, state and timezone per five-digit ZIP (None where the ZIP is blank or unknown)."""
    table = zip_codes.zip_places()
    found = table.reindex(zips.where(zips != "").to_numpy())
    found.index = zips.index
    return found.astype(object).where(found.notna(), None)


def time_zones(
    zips: pd.Series, states: pd.Series, phones: pd.Series, by_zip: pd.Series | None = None
) -> pd.Series:
    """The IANA zone per row: the ZIP table's (`by_zip`), else the ZIP's state, else the
    state's, else the phone's area code."""
    prefix = zips.str[:3]
    by_state = states.where(states != "", prefix.map(ZIP3_STATE)).map(STATE_ZONES)
    zones = prefix.map(ZIP_ZONE_EXCEPTIONS).fillna(by_state)
    if by_zip is not None:
        zones = by_zip.where(by_zip.notna(), zones)
    missing = zones.isna() & phones.notna()
    if missing.any():
        zones[missing] = phones[missing].map(phone_timezone)
    return zones.astype(object).where(zones.notna(), None)


def split_full_name(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    """'Ana María Lopez' → ('Ana María', 'Lopez'); 'Lopez, Ana' → ('Ana', 'Lopez')."""
    comma = series.str.contains(",", regex=False)
    spaced = series.str.contains(" ", regex=False)
    after_comma = series.str.replace(r"^[^,]*,", "", regex=True).str.strip()
    before_comma = series.str.replace(r",.*$", "", regex=True).str.strip()
    last_word = series.str.replace(r"^.* ", "", regex=True)
    other_words = series.str.replace(r" [^ ]*$", "", regex=True)
    first = after_comma.where(comma, other_words.where(spaced, series))
    last = before_comma.where(comma, last_word.where(spaced, ""))
    return first.fillna(""), last.fillna("")
