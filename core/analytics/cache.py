"""Figures worked out once per state of the data, then read back at once.

The stamp (`attribution.data_stamp`) names the state of the data: until it moves, the key
figures, cohorts and churn of a period are what they were, so they are kept in this process (a
few dozen of them, the most recently used) and the next manager to open the page gets them in
milliseconds.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar, cast

SIZE = 48
T = TypeVar("T")

_kept: OrderedDict[Hashable, object] = OrderedDict()
_lock = threading.Lock()


def cached(key: Hashable, stamp: str, compute: Callable[[], T]) -> T:
    """`compute()`'s value for `key` at `stamp`, kept from an earlier call when there was one."""
    full = (key, stamp)
    with _lock:
        if full in _kept:
            _kept.move_to_end(full)
            return cast(T, _kept[full])
    value = compute()
    with _lock:
        _kept[full] = value
        while len(_kept) > SIZE:
            _kept.popitem(last=False)
    return value


def forget() -> None:
    """Drop everything kept (tests that swap the database under the same process)."""
    with _lock:
        _kept.clear()
