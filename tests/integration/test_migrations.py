"""Migrations create every table on SQLite and PostgreSQL, go down to nothing, and up again."""

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

import core.models  # noqa: F401
from core.db import Base, engine_for, reset_engines
from core.infra import migration_runner
from tests.conftest import database_name

FOUNDATION_TABLES = {
    "users",
    "customers",
    "products",
    "orders",
    "order_items",
    "events",
    "jobs",
    "audit_log",
    "settings",
}


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database that has never seen a migration."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    postgres = request.getfixturevalue("postgres")
    name = database_name("mig", uuid.uuid4().hex[:6])
    postgres.create(name)
    try:
        yield postgres.url_of(name)
    finally:
        reset_engines()
        postgres.drop(name)


def tables(url: str) -> set[str]:
    return set(inspect(engine_for(url)).get_table_names()) - {"alembic_version"}


def test_upgrade_downgrade_upgrade(fresh_url: str) -> None:
    migration_runner.upgrade(fresh_url)
    assert migration_runner.current_revision(fresh_url) == migration_runner.head_revision()
    assert tables(fresh_url) >= FOUNDATION_TABLES
    assert tables(fresh_url) == set(Base.metadata.tables)

    migration_runner.downgrade(fresh_url, revision="base")
    assert migration_runner.current_revision(fresh_url) is None
    assert tables(fresh_url) == set()

    migration_runner.upgrade(fresh_url)
    assert migration_runner.current_revision(fresh_url) == migration_runner.head_revision()


def test_migrations_match_the_models(fresh_url: str) -> None:
    """Autogenerate finds nothing to do: the models and the migrations describe one schema."""
    migration_runner.upgrade(fresh_url)
    with engine_for(fresh_url).connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_ensure_current_migrates_only_when_behind(fresh_url: str) -> None:
    assert migration_runner.ensure_current(fresh_url) is True
    assert migration_runner.ensure_current(fresh_url) is False
