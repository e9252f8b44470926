"""The secret key fails closed: weak or placeholder keys stop the app, a generated key stays out
of the database, and each use gets a key of its own."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from core.config import Settings
from core.infra import health, keys

GOOD = "kQ3v8Zr1tW6mN2bX5cL7yH4jP9dF0sGaQeTuIoYzx"


@pytest.fixture(autouse=True)
def no_configured_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests say which key they have; the suite's own SECRET_KEY stays out."""
    monkeypatch.delenv("SECRET_KEY")


def local(tmp_path: Path, **values: str) -> Settings:
    """Settings of a single-machine install whose SQLite file lives in tmp_path."""
    return Settings(database_url=f"sqlite:///{tmp_path / 'shop.db'}", **values)


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("change-me-to-a-long-random-string", "placeholder"),  # the example files' value
        ("changeme", "placeholder"),
        ("<your secret key here, at least 32 bytes long>", "placeholder"),
        ("x" * 40, "placeholder"),
        ("short-but-random-9f2k", "21 bytes long"),
        ("", "0 bytes long"),
    ],
)
def test_weak_keys_are_refused_with_the_reason(value: str, says: str) -> None:
    with pytest.raises(keys.InsecureSecret, match=says) as refused:
        keys.check_secret(value)
    assert "secrets.token_urlsafe" in str(refused.value), "it says how to make a good one"


def test_a_good_key_is_the_master_and_each_use_derives_its_own(tmp_path: Path) -> None:
    settings = local(tmp_path, secret_key=GOOD)
    assert keys.master_key(settings) == GOOD.encode()
    links, offers = (
        keys.key_for("unsubscribe-links", settings),
        keys.key_for("offer-codes", settings),
    )
    assert len({links, offers, GOOD.encode()}) == 3 and len(links) == 32
    assert keys.key_for("offer-codes", settings) == offers, "stable"
    assert not keys.uses_generated_key(settings) and health.go_live_warnings(settings) == []
    assert not (tmp_path / "secret.key").exists()


def test_without_a_key_one_machine_generates_one_kept_beside_its_database(tmp_path: Path) -> None:
    settings = local(tmp_path)
    first = keys.master_key(settings)
    path = tmp_path / "secret.key"
    assert path.read_text().encode() == first and len(first) >= 48
    assert stat.S_IMODE(path.stat().st_mode) == 0o600, "readable by its owner only"
    keys._master_key.cache_clear()  # as a second process starting would
    assert keys.master_key(settings) == first
    warnings = health.go_live_warnings(settings)
    assert len(warnings) == 1 and "Set SECRET_KEY before going live" in warnings[0]

    path.chmod(0o644)
    keys._master_key.cache_clear()
    keys.master_key(settings)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600, "loosened permissions are tightened"


@pytest.mark.parametrize(
    "values",
    [
        {"database_url": "postgresql+psycopg://shop@db/shop"},
        {"redis_url": "redis://127.0.0.1:6379/0"},  # workers elsewhere cannot read our file
    ],
)
def test_without_a_key_processes_that_must_share_one_refuse_to_start(
    tmp_path: Path, values: dict[str, str]
) -> None:
    settings = Settings(**({"database_url": f"sqlite:///{tmp_path / 'shop.db'}"} | values))
    with pytest.raises(keys.InsecureSecret, match="SECRET_KEY is not set"):
        keys.master_key(settings)
    assert not (tmp_path / "secret.key").exists()


def test_blank_and_placeholder_provider_secrets_are_no_secrets(tmp_path: Path) -> None:
    settings = local(
        tmp_path,
        secret_key=GOOD,
        mailgun_api_key="key-3ax6xnjp29jd6fds4gc373sgvjxteol0",
        mailgun_webhook_signing_key="",
        twilio_auth_token="your-twilio-token",
        smtp_password="   ",
        email_rate_per_min="",
    )
    assert settings.mailgun_webhook_signing_key is None
    assert settings.twilio_auth_token is None and settings.smtp_password is None
    assert settings.email_rate_per_min is None
    assert settings.ignored_placeholders == ["TWILIO_AUTH_TOKEN"]
    assert health.go_live_warnings(settings) == [
        "TWILIO_AUTH_TOKEN is a placeholder, so it is ignored: set the real value.",
        "MAILGUN_WEBHOOK_SIGNING_KEY is not set: Mailgun's delivery events, complaints and "
        "unsubscribes are refused until it is.",
    ]
