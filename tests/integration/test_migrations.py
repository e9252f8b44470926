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


def test_a_key_generated_by_an_earlier_version_leaves_the_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before 0006 a generated key lived in the settings table; it moves to the key file, so
    links in emails already sent still verify, and a copy of the database holds no key."""
    from sqlalchemy import text

    from core.infra import keys
    from core.messaging import links

    url = f"sqlite:///{tmp_path / 'shop.db'}"
    migration_runner.upgrade(url, revision="0005")
    old_key = "an older install generated this key and kept it in the database"
    with engine_for(url).begin() as connection:
        connection.execute(
            text("INSERT INTO settings (key, value, updated_at) VALUES ('secret_key', :v, :t)"),
            {"v": f'{{"value": "{old_key}"}}', "t": "2026-01-01 00:00:00"},
        )
    sent_before = links.unsubscribe_token(old_key.encode(), 42)

    migration_runner.upgrade(url)
    key_file = tmp_path / "secret.key"
    assert key_file.read_text() == old_key and oct(key_file.stat().st_mode)[-3:] == "600"
    with engine_for(url).connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM settings")).scalar() == 0
    monkeypatch.delenv("SECRET_KEY")
    monkeypatch.setenv("DATABASE_URL", url)
    reset_engines()
    assert keys.master_key() == old_key.encode()
    assert links.message_id_from(links.accepted_link_keys(), sent_before) == 42
    reset_engines()
