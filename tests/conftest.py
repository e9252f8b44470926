"""Shared fixtures: real SQLite and PostgreSQL databases, real Redis, and signed-in app sessions.

`database` runs a test on both backends. PostgreSQL and Redis are the machine's own services
(../shared/SERVICES.md); when one is down the test is skipped, unless REQUIRE_SERVICES=1, when it
fails, so CI can never pass by skipping.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

PG_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
ROOT = Path(__file__).resolve().parent.parent

# Tests never read a developer's .env or secrets.toml values for these, and never sleep at login.
os.environ.update(
    {
        "REDIS_URL": "",
        "SECRET_KEY": "test-secret-key-not-for-production",
        "LOGIN_SLEEP_SECONDS": "0",
        "PASSWORD_HASH_ROUNDS": "4",
        "LOG_LEVEL": "WARNING",
    }
)

from core import schema  # noqa: E402  (after the environment is set)
from core.db import Base, reset_engines, session_scope  # noqa: E402


def services_required() -> bool:
    return os.environ.get("REQUIRE_SERVICES") == "1"


def unavailable(what: str, error: Exception) -> None:
    message = f"{what} is not reachable: {error}"
    if services_required():
        pytest.fail(f"{message} (REQUIRE_SERVICES=1)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The `test` database, emptied once per test session and migrated to head."""
    try:
        engine = create_engine(PG_URL)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    except Exception as exc:  # noqa: BLE001
        unavailable("PostgreSQL", exc)
    return PG_URL


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def redis_url() -> str:
    from redis import Redis

    try:
        Redis.from_url(REDIS_URL).ping()
    except Exception as exc:  # noqa: BLE001
        unavailable("Redis", exc)
    return REDIS_URL


_migrated: set[str] = set()
URL_FIXTURES = {"sqlite": "sqlite_url", "postgresql": "postgres_url"}


def use_database(monkeypatch: pytest.MonkeyPatch, url: str) -> str:
    """Point the app's settings at `url` and bring it to the newest schema."""
    monkeypatch.setenv("DATABASE_URL", url)
    reset_engines()
    if url not in _migrated:
        schema.upgrade(url)
        _migrated.add(url)
    return url


def empty_tables() -> None:
    from core.db import get_engine

    engine = get_engine()
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(text(f"DELETE FROM {table}"))


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Run the test once on SQLite and once on PostgreSQL, each starting from empty tables."""
    url = request.getfixturevalue(URL_FIXTURES[request.param])
    use_database(monkeypatch, url)
    empty_tables()
    yield url
    empty_tables()
    reset_engines()


@pytest.fixture
def sqlite_database(monkeypatch: pytest.MonkeyPatch, sqlite_url: str) -> Iterator[str]:
    """SQLite only: for UI tests, where the backend is not what is being tested."""
    use_database(monkeypatch, sqlite_url)
    empty_tables()
    yield sqlite_url
    empty_tables()
    reset_engines()


@pytest.fixture
def session(database: str) -> Iterator[Session]:
    """A session on `database` committed when the test ends."""
    with session_scope() as s:
        yield s
