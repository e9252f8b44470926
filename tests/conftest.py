"""Shared fixtures: real SQLite and PostgreSQL databases, real Redis, stores built once.

`database` runs a test on SQLite; a test marked `both_databases` (its SQL differs by dialect)
runs on PostgreSQL too (in the full run: that second run is marked `slow`), and one marked
`postgresql_only` (RQ workers beside PostgreSQL, as deployed) on PostgreSQL alone. PostgreSQL
and Redis are the machine's own services (../shared/SERVICES.md); when one is down the test is
skipped, unless REQUIRE_SERVICES=1, when it fails, so CI can never pass by skipping.

Every test run, and every pytest-xdist worker in it, has databases and Redis keys of its own
(named by the run and the worker), so runs on one machine never touch each other's data.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

POSTGRES_SERVER = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
"""Any database on the server: each run creates its own databases beside it."""
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
ROOT = Path(__file__).resolve().parent.parent
STALE_DATABASE_SECONDS = 6 * 3600
"""Databases of runs that were killed before they could drop them are dropped after this long."""

T = TypeVar("T")

WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
RUN = os.environ.setdefault("LASTCALL_TEST_RUN", uuid.uuid4().hex[:8])
"""xdist workers inherit the controller's environment, so they share the run's id."""

# Tests never read a developer's .env or secrets.toml values for these, and never sleep at login.
os.environ.update(
    {
        "REDIS_URL": "",
        "REDIS_NAMESPACE": f"lctest:{RUN}:{WORKER}",
        "DATA_DIR": str(Path(tempfile.gettempdir()) / f"lastcall-test-{RUN}-{WORKER}"),
        "SECRET_KEY": "kV3q9Zt1rW8mN2bX5cL7yH4jP6dF0sG-aQeTuIoY",  # a random test key
        "LOGIN_SLEEP_SECONDS": "0",
        "PASSWORD_HASH_ROUNDS": "4",
        "LOG_LEVEL": "WARNING",
    }
)

# After the environment is set:
from core.analytics import cache as analytics_cache  # noqa: E402
from core.db import Base, reset_engines, session_scope  # noqa: E402
from core.infra import migration_runner  # noqa: E402


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "both_databases: SQL that differs by dialect: run on PostgreSQL as well"
    )
    config.addinivalue_line("markers", "postgresql_only: run on PostgreSQL, not SQLite")
    config.addinivalue_line(
        "markers",
        "slow: several seconds alone on a 2-core machine (a served app or worker process, a full"
        " demo store, a long scenario), and the PostgreSQL run of a both_databases test: left"
        " out of the quick `pytest`, run by `pytest -m slow` and always by CI",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under pytest-xdist (--dist loadgroup), the tests of a module that restores a built store
    run on one worker, which builds the store once; the browser tests run one after another
    (each drives a browser and a server of its own, two at once starve a 2-core machine); every
    other test goes wherever is free."""
    for item in items:
        if item.get_closest_marker("e2e"):
            item.add_marker(pytest.mark.xdist_group("e2e"))
        elif "built_store" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group(item.module.__name__))


def pytest_collection_finish(session: pytest.Session) -> None:
    """Fail the run if pytest-xdist stops grouping: it marks a group in the test's id, which
    pytest 9.2 no longer lets it change (pytest-xdist#1386), and then the tests of a built store
    are spread over the workers, each of which builds the store again, silently."""
    if not session.config.getoption("loadgroup", False):
        return  # not an xdist worker of a --dist loadgroup run
    grouped = [item.nodeid for item in session.items if item.get_closest_marker("xdist_group")]
    lost = [nodeid for nodeid in grouped if "@" not in nodeid]
    if lost:
        raise pytest.UsageError(f"pytest-xdist ignored the xdist_group of {lost[0]}")


BACKENDS = {"both_databases": ["sqlite", "postgresql"], "postgresql_only": ["postgresql"]}
SQLITE_ONLY = os.environ.get("TEST_BOTH_DATABASES_ON") == "sqlite"
"""Set by CI's second run (the clock moved on), which asks whether a test depends on the day,
not on the dialect: `both_databases` tests run on SQLite alone there; `postgresql_only` ones
still run on PostgreSQL."""


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "database" in metafunc.fixturenames:
        marked = [name for name in BACKENDS if metafunc.definition.get_closest_marker(name)]
        backends = BACKENDS[marked[0]] if marked else ["sqlite"]
        if SQLITE_ONLY and "sqlite" in backends:
            backends = ["sqlite"]
        # A dialect test's second run, on PostgreSQL, belongs to the full run (`-m slow`, CI):
        # the quick run checks the logic on SQLite; tests that need PostgreSQL stay in it.
        params = [
            pytest.param(b, marks=pytest.mark.slow)
            if b == "postgresql" and "sqlite" in backends
            else b
            for b in backends
        ]
        metafunc.parametrize("database", params, indirect=True)


def services_required() -> bool:
    return os.environ.get("REQUIRE_SERVICES") == "1"


def unavailable(what: str, error: Exception) -> None:
    message = f"{what} is not reachable: {error}"
    if services_required():
        pytest.fail(f"{message} (REQUIRE_SERVICES=1)")
    pytest.skip(message)


# --- PostgreSQL: one database per run and worker --------------------------------------------------


def database_name(*parts: str) -> str:
    """lc_<run>_<worker>_<parts>: PostgreSQL names stop at 63 characters."""
    raw = "_".join(["lc", RUN, WORKER, *parts])
    return re.sub(r"[^a-z0-9_]", "_", raw.lower())[:63]


class PostgresServer:
    """Creates and drops this run's databases over an AUTOCOMMIT connection."""

    def __init__(self, url: str) -> None:
        self.url = make_url(url)
        self.admin: Engine = create_engine(
            self.url.set(database="postgres"), isolation_level="AUTOCOMMIT"
        )

    def url_of(self, name: str) -> str:
        """The URL of database `name`. A statement of a test that waits on a lock for a minute,
        or runs for two, fails saying so (and which statement) instead of hanging until the
        test's own timeout with only a stack to show for it."""
        waits = "-c lock_timeout=60s -c statement_timeout=120s"
        url = self.url.set(database=name).update_query_dict({"options": waits})
        return url.render_as_string(hide_password=False)

    def execute(self, sql: str) -> None:
        with self.admin.connect() as connection:
            connection.execute(text(sql))

    def create(self, name: str) -> None:
        # The creation time rides in the comment, so a later run can drop what a killed one left.
        self.execute(f'CREATE DATABASE "{name}"')
        self.execute(f"COMMENT ON DATABASE \"{name}\" IS 'lastcall test {time.time():.0f}'")

    def drop(self, name: str) -> None:
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def drop_stale(self) -> None:
        with self.admin.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT d.datname, shobj_description(d.oid, 'pg_database') FROM pg_database d"
                    " WHERE d.datname LIKE 'lc\\_%'"
                )
            ).all()
        for name, comment in rows:
            stamp = (comment or "").rpartition(" ")[2]
            if stamp.isdigit() and time.time() - int(stamp) > STALE_DATABASE_SECONDS:
                self.drop(name)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    try:
        server = PostgresServer(POSTGRES_SERVER)
        server.drop_stale()
    except Exception as exc:  # noqa: BLE001
        unavailable("PostgreSQL", exc)
    yield server
    with server.admin.connect() as connection:
        mine = connection.execute(
            text("SELECT datname FROM pg_database WHERE datname LIKE :prefix"),
            {"prefix": database_name() + "%"},
        ).scalars()
        names = list(mine)
    reset_engines()
    for name in names:
        server.drop(name)
    server.admin.dispose()


@pytest.fixture(scope="session")
def postgres_url(postgres: PostgresServer) -> str:
    """This worker's database, migrated to head."""
    name = database_name("db")
    postgres.drop(name)
    postgres.create(name)
    url = postgres.url_of(name)
    migration_runner.upgrade(url)
    return url


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    migration_runner.upgrade(url)
    return url


@pytest.fixture(scope="session")
def redis_url() -> str:
    from redis import Redis

    try:
        Redis.from_url(REDIS_URL).ping()
    except Exception as exc:  # noqa: BLE001
        unavailable("Redis", exc)
    return REDIS_URL


def forget_redis_keys(url: str) -> None:
    """Delete this worker's queue and keys (and only them: db 15 may serve other runs too)."""
    from redis import Redis

    from core.config import get_settings

    redis = Redis.from_url(url)
    namespace = get_settings().redis_namespace
    for key in redis.scan_iter(match=f"*{namespace}*", count=1000):
        redis.delete(key)


URL_FIXTURES = {"sqlite": "sqlite_url", "postgresql": "postgres_url"}


def use_database(monkeypatch: pytest.MonkeyPatch, url: str) -> str:
    """Point the app's settings at `url` (already at the newest schema)."""
    monkeypatch.setenv("DATABASE_URL", url)
    reset_engines()
    return url


def empty_tables() -> None:
    """Delete every row, children first, and restart PostgreSQL's id sequences. (A DELETE of a
    test's few rows takes a fifth of what a TRUNCATE of 29 tables does: 20 against 110 ms, for
    each of some 400 PostgreSQL tests.) On PostgreSQL it is one round trip of many statements."""
    from core.db import get_engine

    engine = get_engine()
    deletes = [f"DELETE FROM {t.name}" for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as connection:
        if engine.dialect.name != "postgresql":
            for statement in deletes:
                connection.exec_driver_sql(statement)
            return
        restarts = [
            f'ALTER SEQUENCE "{name}" RESTART'
            for name in connection.execute(
                text("SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'")
            ).scalars()
        ]
        connection.exec_driver_sql("; ".join(deletes + restarts))


@pytest.fixture
def database(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Empty tables on SQLite (and on PostgreSQL for `both_databases` tests); yields the URL.
    Tables are emptied before each test, not after: whatever a test leaves is never read."""
    url = request.getfixturevalue(URL_FIXTURES[request.param])
    use_database(monkeypatch, url)
    empty_tables()
    # Figures kept in this process belong to the store they were computed from; ids restart
    # in the emptied tables, so a stamp can repeat from one test's store to the next.
    analytics_cache.forget()
    yield url
    finish_job_threads()
    reset_engines()


def finish_job_threads(timeout: float = 60) -> None:
    """Wait for the in-process job threads a test started (a send after "Start now", a plan
    that was cancelled): one still writing when the next test swaps the database in would
    write into the wrong store."""
    deadline = time.monotonic() + timeout
    for thread in threading.enumerate():
        if thread.name.startswith("job-"):
            thread.join(max(0.0, deadline - time.monotonic()))


@pytest.fixture
def session(database: str) -> Iterator[Session]:
    """A session on `database` committed when the test ends."""
    with session_scope() as s:
        yield s


# --- stores built once per run, worker and backend, restored for each test that needs one ------


@dataclass
class Snapshots:
    """Built stores: by (database URL, key), where the copy is and what the build returned.

    On SQLite the copy is a copy of the file. On PostgreSQL it is a schema of its own in the same
    database, with a copy of every table and the sequences' values, put back by INSERT … SELECT:
    a database copied from a template (CREATE DATABASE … TEMPLATE) needs the old one dropped,
    and DROP DATABASE waits for a checkpoint, which under the other workers' writes took
    1 to 7 s a test; this takes about a third of a second."""

    folder: Path
    built: dict[tuple[str, str], tuple[str, Any]] = field(default_factory=dict)
    sequences: dict[str, list[tuple[str, int | None]]] = field(default_factory=dict)

    def take(self, url: str, key: str) -> str:
        reset_engines()
        engine = create_engine(url)
        if url.startswith("sqlite"):
            path = Path(make_url(url).database or "")
            with engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            engine.dispose()
            copy = self.folder / f"{re.sub(r'[^A-Za-z0-9]+', '-', key)}.db"
            shutil.copyfile(path, copy)
            return str(copy)
        schema = "snapshot_" + re.sub(r"[^a-z0-9]+", "_", key.lower())
        with engine.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
            for table in Base.metadata.sorted_tables:
                connection.execute(
                    text(f'CREATE TABLE "{schema}"."{table.name}" AS TABLE public."{table.name}"')
                )
            self.sequences[schema] = [
                (name, value)
                for name, value in connection.execute(
                    text(
                        "SELECT sequencename, last_value FROM pg_sequences"
                        " WHERE schemaname = 'public'"
                    )
                )
            ]
        engine.dispose()
        return schema

    def restore(self, url: str, copy: str) -> None:
        """Put the copy back into `url`'s database, whose tables the `database` fixture has
        just emptied."""
        reset_engines()
        if url.startswith("sqlite"):
            path = Path(make_url(url).database or "")
            for leftover in (Path(f"{path}-wal"), Path(f"{path}-shm")):
                leftover.unlink(missing_ok=True)
            shutil.copyfile(copy, path)
            return
        engine = create_engine(url)
        with engine.begin() as connection:
            # The rows are a copy of a consistent store: their foreign keys need no checking
            # again (the tests connect as the server's superuser).
            connection.execute(text("SET LOCAL session_replication_role = replica"))
            for table in Base.metadata.sorted_tables:
                connection.execute(
                    text(f'INSERT INTO public."{table.name}" TABLE "{copy}"."{table.name}"')
                )
            for name, value in self.sequences[copy]:
                if value is not None:  # a sequence never drawn from was restarted already
                    connection.execute(text(f"SELECT setval('public.\"{name}\"', {value})"))
            # The planner sees the store, not whatever the worker's database held last.
            tables = ", ".join(f'public."{table.name}"' for table in Base.metadata.sorted_tables)
            connection.execute(text(f"ANALYZE {tables}"))
        engine.dispose()


@pytest.fixture(scope="session")
def snapshots(tmp_path_factory: pytest.TempPathFactory) -> Snapshots:
    return Snapshots(tmp_path_factory.mktemp("stores"))


@pytest.fixture
def built_store(database: str, snapshots: Snapshots) -> Callable[[str, Callable[[], T]], T]:
    """`built_store(key, build)`: the database as `build()` leaves it, and what it returned.

    The first test to ask for `key` on a backend runs `build` on the empty database and keeps a
    copy (see `Snapshots`); later tests get the copy back in a moment instead of loading and
    scoring a store again. `build` must depend on `key` alone.
    """

    def restore_or_build(key: str, build: Callable[[], T]) -> T:
        known = snapshots.built.get((database, key))
        if known is not None:
            snapshots.restore(database, known[0])
            return known[1]
        result = build()
        snapshots.built[database, key] = (snapshots.take(database, key), result)
        return result

    return restore_or_build
