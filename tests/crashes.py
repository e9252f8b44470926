"""A unit of work that dies when it is opened for the n-th time: a worker killed between two
transactions of a long job (an import, the demo), for the tests of resuming."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol

from sqlalchemy.orm import Session

from core.db import session_scope


class UnitOfWork(Protocol):
    def __call__(self, *, read_only: bool = False) -> AbstractContextManager[Session]: ...


def dies_on_opening(times: int, error: Exception | None = None) -> UnitOfWork:
    """`session_scope`, but raising `error` (a RuntimeError by default) on the `times`-th call."""
    opened = 0

    @contextmanager
    def unit_of_work(*, read_only: bool = False) -> Iterator[Session]:
        nonlocal opened
        opened += 1
        if opened == times:
            raise error or RuntimeError("worker killed")
        with session_scope(read_only=read_only) as session:
            yield session

    return unit_of_work
