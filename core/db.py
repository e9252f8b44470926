"""Engine, sessions and the declarative base shared by every model.

The caller owns the transaction: pages, routes, jobs and the CLI open `session_scope()` around
one or more core calls; core functions flush but never commit.
"""

from __future__ import annotations

import functools
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol, TypeVar, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    CursorResult,
    DateTime,
    Engine,
    Integer,
    MetaData,
    Result,
    String,
    Table,
    create_engine,
    event,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from core.config import get_settings
from core.infra.sql import local_month

T = TypeVar("T")

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
"""Named constraints keep Alembic's SQLite batch migrations and downgrades predictable."""


def utc_now() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend.

    PostgreSQL stores `timestamptz`; SQLite has no zone, so values are stored as naive UTC and
    given their zone back on the way out. Naive datetimes are refused: a missing zone is a bug.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: store timezone-aware UTC values")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


E = TypeVar("E", bound=StrEnum)


class StrEnumType(TypeDecorator[E]):
    """A `StrEnum` member in Python, its value in a VARCHAR column: statuses and kinds read back
    as enum members, while the table keeps plain text any tool can read (no native enum type to
    migrate when a value is added)."""

    impl = String
    cache_ok = True

    def __init__(self, enum: type[E], length: int) -> None:
        super().__init__(length)
        self.enum = enum

    def process_bind_param(self, value: E | str | None, dialect: Any) -> str | None:
        return None if value is None else self.enum(value).value

    def process_result_value(self, value: str | None, dialect: Any) -> E | None:
        return None if value is None else self.enum(value)


JSONType = JSON().with_variant(JSONB(), "postgresql")
BigIntPK = BigInteger().with_variant(Integer(), "sqlite")
"""64-bit keys on PostgreSQL; INTEGER on SQLite so the key is the fast rowid."""


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads it from the class
        datetime: UTCDateTime(),
        dict[str, Any]: JSONType,
        list[Any]: JSONType,
    }


def _prepare_sqlite(engine: Engine) -> None:
    """WAL for concurrent readers, enforced foreign keys, and real transactions.

    pysqlite's own transaction handling issues BEGIN lazily and breaks SAVEPOINT; the SQLAlchemy
    recipe turns it off and emits BEGIN ourselves. Sessions that may write begin IMMEDIATE (see
    `session_scope`): a deferred transaction that read first cannot write after another
    connection committed, and SQLite then fails at once instead of waiting.
    """

    # sqlite3 binds None as NULL only after looking for an adapter and failing, which costs
    # three times the binding of a string (bulk inserts bind millions); one registered for None
    # is found at once.
    sqlite3.register_adapter(type(None), _null)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA temp_store=MEMORY")  # import scratch tables live in RAM
        # 128 MB of page cache (the default is 2 MB): bulk loads touch every index.
        cursor.execute("PRAGMA cache_size=-131072")
        cursor.close()
        dbapi_connection.create_function("local_month", 2, local_month, deterministic=True)

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get("sqlite_begin_immediate", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _null(value: None) -> None:
    return value


_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def engine_for(url: str) -> Engine:
    """One pooled engine per database URL for the life of the process."""
    with _engines_lock:
        if url not in _engines:
            _engines[url] = _create_engine(url)
        return _engines[url]


def _private_file(path: Path) -> None:
    """Create the SQLite file readable by its owner only (it holds customers' personal data),
    and tighten one an earlier version left readable by all. SQLite gives its -wal and -shm
    files the database file's permissions."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        if path.stat().st_mode & 0o077 and path.stat().st_uid == os.getuid():
            path.chmod(0o600)


def _create_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            _private_file(Path(parsed.database))
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        _prepare_sqlite(engine)
        return engine
    # prepare_threshold=None: never switch to server-side prepared statements, whose generic
    # plans cannot use an index for LIKE 'prefix%' with the prefix as a parameter.
    return create_engine(
        url,
        pool_size=5,
        max_overflow=10,
        pool_pre_ping=True,
        pool_recycle=1800,
        connect_args={"prepare_threshold": None},
    )


def get_engine() -> Engine:
    return engine_for(get_settings().database_url)


@functools.cache
def _sessionmaker_for(engine: Engine, read_only: bool) -> sessionmaker[Session]:
    if engine.dialect.name == "sqlite" and not read_only:
        engine = engine.execution_options(sqlite_begin_immediate=True)
    return sessionmaker(bind=engine, expire_on_commit=False)


class UnitOfWork(Protocol):
    """Opens one transaction (`session_scope` is one); long jobs take one and use it once per
    batch (see core.demo), and a long read asks for a read-only one (on SQLite it then takes no
    write lock)."""

    def __call__(self, *, read_only: bool = False) -> AbstractContextManager[Session]: ...


_open_scopes: ContextVar[int] = ContextVar("open_scopes", default=0)


def in_unit_of_work() -> bool:
    """Whether this thread is inside `session_scope`: a second, nested transaction would wait
    for the first's lock on SQLite (progress reporting checks this and waits its turn)."""
    return _open_scopes.get() > 0


@contextmanager
def session_scope(*, read_only: bool = False) -> Iterator[Session]:
    """A unit of work: commits when the block succeeds, rolls back when it raises.

    Args:
        read_only: promise not to write. On SQLite such a transaction does not queue behind
            writers (WAL readers never wait), so pages stay quick while a job writes.
    """
    session = _sessionmaker_for(get_engine(), read_only)()
    depth = _open_scopes.set(_open_scopes.get() + 1)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
        _open_scopes.reset(depth)


DatabaseUnavailable = OperationalError
"""What a call raises when the database cannot be reached (down, restarting, locked): for the
callers that hold work for later rather than fail it (a one-click unsubscribe)."""


def in_transaction(work: Callable[[Session], T]) -> T:
    """`work(session)` in a transaction of its own: for a route handing work to a thread."""
    with session_scope() as session:
        return work(session)


def table_of(model: type[Base]) -> Table:
    """A model's Table, typed as one (`Model.__table__` is typed as any FromClause)."""
    return cast(Table, model.__table__)


def rowcount(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE changed."""
    return cast(CursorResult[Any], result).rowcount


def upsert(session: Session) -> Callable[..., Any]:
    """The dialect's own `insert` (with on_conflict_do_nothing / on_conflict_do_update)."""
    return sqlite_insert if session.get_bind().dialect.name == "sqlite" else postgresql_insert


def reset_engines() -> None:
    """Dispose every engine and forget cached settings (after the environment changed)."""
    for engine in _engines.values():
        engine.dispose()
    _engines.clear()
    _sessionmaker_for.cache_clear()
    get_settings.cache_clear()
