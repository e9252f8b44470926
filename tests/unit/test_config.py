from pathlib import Path

import pytest

from core.config import ROOT, SecretsTomlSource, Settings, default_database_url


def test_defaults_need_no_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATABASE_URL", "REDIS_URL", "SEND_RATE_PER_MIN", "PASSWORD_HASH_ROUNDS"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(_env_file=None)
    assert settings.database_url == default_database_url()
    assert settings.database_url == f"sqlite:///{ROOT / 'data' / 'lastcall.db'}"
    assert settings.redis_url is None
    assert settings.send_rate_per_min == 1000
    assert settings.session_idle_minutes == 60
    assert settings.password_hash_rounds == 12
    assert settings.is_sqlite


def test_environment_overrides_and_blank_means_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u@h/db")
    monkeypatch.setenv("REDIS_URL", "  ")
    monkeypatch.setenv("SEND_RATE_PER_MIN", "250")
    monkeypatch.setenv("MAILGUN_API_KEY", "key-123")
    settings = Settings(_env_file=None)
    assert settings.database_url == "postgresql+psycopg://u@h/db"
    assert not settings.is_sqlite
    assert settings.redis_url is None
    assert settings.send_rate_per_min == 250
    assert settings.mailgun_api_key is not None
    assert "key-123" not in repr(settings), "secrets must not show in logs or reprs"


def test_invalid_rate_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEND_RATE_PER_MIN", "0")
    with pytest.raises(ValueError, match="send_rate_per_min"):
        Settings(_env_file=None)


def test_secrets_toml_keys_are_read_like_env_names(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('STORE_NAME = "Corner Cellar"\nTWILIO_FROM_NUMBER = "+13125550100"\n')
    source = SecretsTomlSource(Settings, path=secrets)
    assert source() == {"store_name": "Corner Cellar", "twilio_from_number": "+13125550100"}


def test_missing_secrets_toml_is_fine(tmp_path: Path) -> None:
    assert SecretsTomlSource(Settings, path=tmp_path / "absent.toml")() == {}


def test_every_setting_is_documented() -> None:
    """The README's table and .env.example name every setting a self-hoster can change."""
    readme = (ROOT / "README.md").read_text()
    example = (ROOT / ".env.example").read_text()
    secrets_example = (ROOT / ".streamlit" / "secrets.toml.example").read_text()
    for name in Settings.model_fields:
        env_name = name.upper()
        assert f"`{env_name}`" in readme, f"{env_name} missing from the README table"
        if env_name not in ("PASSWORD_HASH_ROUNDS", "LOGIN_SLEEP_SECONDS"):
            assert f"{env_name}=" in example, f"{env_name} missing from .env.example"
            assert f"{env_name} = " in secrets_example, f"{env_name} missing from secrets example"
