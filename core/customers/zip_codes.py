"""US ZIP codes → city, state and time zone.

The table is the `zipcodes` package's (USPS ZIP codes with their primary city, state and IANA
time zone, about 42,800 of them), read once per process into a pandas frame so an import maps a
whole column at a time.
"""

from __future__ import annotations

import contextlib
import os
from functools import cache
from pathlib import Path
from typing import NamedTuple

import pandas as pd
import zipcodes

from core.config import get_settings


class ZipPlace(NamedTuple):
    city: str
    state: str
    timezone: str | None


@cache
def zip_places() -> pd.DataFrame:
    """city, state and timezone (None where the table has none, e.g. military ZIPs), indexed by
    the five-digit ZIP code.

    Built from the package's list (42,800 records crossing from its Rust core one field at a
    time: an import's cleaning process had its first batch ready 1.84 s after it started),
    then kept in the install's files as Parquet for the next process (read in 60 ms; that
    first batch ready at 0.50 s)."""
    kept = _kept_table()
    with contextlib.suppress(OSError, ValueError):
        return pd.read_parquet(kept)
    rows = [
        (z["zip_code"], z["city"], z["state"], z["timezone"] or None) for z in zipcodes.list_all()
    ]
    table = pd.DataFrame(rows, columns=["zip", "city", "state", "timezone"])
    table = table.drop_duplicates("zip").set_index("zip")
    with contextlib.suppress(OSError):  # a read-only install builds it in every process
        kept.parent.mkdir(parents=True, exist_ok=True)
        partial = kept.with_suffix(f".{os.getpid()}.tmp")
        table.to_parquet(partial)
        partial.replace(kept)  # whole or not at all, for a process reading it meanwhile
    return table


def _kept_table() -> Path:
    """Where the table is kept, by the package's version (an upgrade builds it again)."""
    return get_settings().files_dir / "cache" / f"zip-places-{zipcodes.__version__}.parquet"


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
