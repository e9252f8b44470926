"""US ZIP codes → city, state and time zone.

The table is the `zipcodes` package's (USPS ZIP codes with their primary city, state and IANA
time zone, about 42,800 of them), read once per process into a pandas frame so an import maps a
whole column at a time.
"""

from __future__ import annotations

from functools import cache
from typing import NamedTuple

import pandas as pd
import zipcodes


class ZipPlace(NamedTuple):
    city: str
    state: str
    timezone: str | None


@cache
def zip_places() -> pd.DataFrame:
    """city, state and timezone (None where the table has none, e.g. military ZIPs), indexed by
    the five-digit ZIP code."""
    rows = [
        (z["zip_code"], z["city"], z["state"], z["timezone"] or None) for z in zipcodes.list_all()
    ]
    table = pd.DataFrame(rows, columns=["zip", "city", "state", "timezone"])
    return table.drop_duplicates("zip").set_index("zip")


def place_of(zip_code: str | None) -> ZipPlace | None:
    """The place a five-digit ZIP code belongs to, or None for one the table does not know."""
    if not zip_code or zip_code not in zip_places().index:
        return None
    row = zip_places().loc[zip_code]
    zone = row["timezone"]
    return ZipPlace(str(row["city"]), str(row["state"]), zone if isinstance(zone, str) else None)


def is_known(zips: pd.Series) -> pd.Series:
    """Per value: a ZIP code the table knows."""
    known = _known_zips()
    return pd.Series([z in known for z in zips], index=zips.index, dtype=bool)


@cache
def _known_zips() -> frozenset[str]:
    # A set, not `isin` on the index: pandas re-reads all 42,800 codes on every call.
    return frozenset(zip_places().index)
