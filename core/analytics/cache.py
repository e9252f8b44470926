"""Figures worked out once per state of the data, then read back at once.

A stamp names the state the dashboard's figures are computed from: the orders' version (moved
on by every write of orders, in its own transaction), the newest message, send and event, and
the attribution settings. Until one of them moves, the key figures, cohorts and churn of a
period are what they were, so they are kept in this process (a few dozen of them, the newest
used kept) and the next manager to open the page gets them in milliseconds. The stamp is read
first, in the same transaction as the figures: a write that commits meanwhile moves the stamp
for the next reader, so a stale figure is never kept under a newer stamp.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import datetime
from typing import TypeVar, cast

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.attribution import get_attribution_settings
from core.customers.totals import orders_version
from core.models import Campaign, Event, Message

SIZE = 48
T = TypeVar("T")

_kept: OrderedDict[Hashable, object] = OrderedDict()
_lock = threading.Lock()


def data_stamp(session: Session, now: datetime) -> tuple[Hashable, ...]:
    """What the figures depend on; a handful of index lookups. `now` counts by the hour (a
    campaign still measuring its lift moves on with the clock)."""
    newest = session.execute(
        select(
            *(
                select(column).scalar_subquery()
                for column in (
                    func.max(Message.id),
                    func.max(Message.sent_at),
                    func.max(Event.id),
                    func.count(Campaign.id),
                    func.max(Campaign.updated_at),
                )
            )
        )
    ).one()
    settings = get_attribution_settings(session=session).model_dump_json()
    return (
        orders_version(session),
        *newest,
        settings,
        now.replace(minute=0, second=0, microsecond=0),
    )


def cached(key: Hashable, stamp: tuple[Hashable, ...], compute: Callable[[], T]) -> T:
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
