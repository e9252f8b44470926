"""Settings: the one home of configuration.

Values come, highest priority first, from keyword arguments, the environment, a `.env` file in the
project root, and `.streamlit/secrets.toml` (flat keys named like the environment variables). Every
default lives here.

A blank value is no value (the example files ship `KEY=` lines), and a provider secret that is a
placeholder ("change-me", "your-key") is no secret: both count as unset, so whatever the secret
guards refuses (a webhook answers 403) rather than trusting a value anyone can guess.
"""

from __future__ import annotations

import functools
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, PrivateAttr, SecretStr, model_validator
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
"""The project root: app.py, data/ and .streamlit/ live here."""

DATA_DIR = ROOT / "data"
"""Where the embedded SQLite database and uploaded files live (git-ignored)."""

SECRETS_TOML = ROOT / ".streamlit" / "secrets.toml"


PLACEHOLDER = re.compile(
    r"change.?me|replace.?me|placeholder|example|your.{0,20}(secret|key|token|password)"
    r"|not.?for.?production"
    r"|^<.*>$|^(secret|password|test|token|x+|0+|1234\d*)$",
    re.IGNORECASE,
)
"""Values copied from documentation or typed in a hurry."""

PROVIDER_SECRETS = (
    "mailgun_api_key",
    "mailgun_webhook_signing_key",
    "twilio_auth_token",
    "smtp_password",
    "openai_api_key",
)


def looks_like_placeholder(value: str) -> bool:
    return bool(PLACEHOLDER.search(value.strip()))


def default_database_url() -> str:
    return f"sqlite:///{DATA_DIR / 'lastcall.db'}"


class Settings(BaseSettings):
    """Process-wide settings. Store-level preferences a user edits live in the database instead."""

    model_config = SettingsConfigDict(
        env_file=ROOT / ".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    database_url: str = Field(default_factory=default_database_url)
    redis_url: str | None = None
    redis_namespace: str = Field(default="lastcall", pattern=r"^[A-Za-z0-9:_-]{1,64}$")
    """Names this install's queue and prefixes its keys, so installs (or test runs) can share
    one Redis."""
    data_dir: Path | None = None
    """A folder for the install's own files; see `files_dir`."""
    secret_key: SecretStr | None = None
    """Signs login cookies and links; generated and stored in the database when not set."""
    log_level: str = "INFO"
    public_base_url: str | None = None
    """The address customers and providers reach this app at, e.g. https://shop.example.com."""

    # Store profile defaults (the Store page overrides them in the database).
    store_name: str = "Last Call Liquor"
    store_address: str = ""
    store_city: str = ""
    store_state: str = ""
    store_zip: str = ""
    store_phone: str = ""
    store_email: str = ""
    store_timezone: str = "America/Chicago"
    demo_customers: int = Field(default=5000, ge=10, le=1_000_000)
    """How many customers the demo store has (about eight orders each)."""

    # Imports: what one file may hold (a bigger one is refused with the reason, before loading)
    import_max_upload_mb: int = Field(default=200, ge=1)
    import_max_rows: int = Field(default=5_000_000, ge=1)
    import_max_columns: int = Field(default=300, ge=1)
    import_max_xlsx_mb: int = Field(default=1000, ge=1)
    """The uncompressed size of an .xlsx (a few KB of zip can unpack to gigabytes)."""

    # Messaging
    send_rate_per_min: int = Field(default=1000, ge=1, le=1_000_000)
    email_rate_per_min: int | None = Field(default=None, ge=1, le=1_000_000)
    sms_rate_per_min: int | None = Field(default=None, ge=1, le=1_000_000)
    """Per-channel limits (each provider's own); SEND_RATE_PER_MIN when not set."""
    send_claim_lease_seconds: int = Field(default=300, ge=5)
    """A worker that holds claimed messages this long without an answer is taken for dead, and
    its messages go back in the queue."""
    mailgun_api_key: SecretStr | None = None
    mailgun_domain: str | None = None
    mailgun_webhook_signing_key: SecretStr | None = None
    mailgun_base_url: str = "https://api.mailgun.net"
    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_from_number: str | None = None
    twilio_messaging_service_sid: str | None = None
    twilio_base_url: str = "https://api.twilio.com"
    smtp_host: str | None = None
    """A mailbox's SMTP server (the store's host), used when Mailgun is not configured, or as
    the fallback when Mailgun keeps failing."""
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_security: Literal["starttls", "ssl", "none"] = "starttls"
    email_cost_cents: float = Field(default=0.08, ge=0)
    """What one email costs to send (Mailgun's pay-as-you-go price, about $0.80 a thousand)."""
    sms_cost_cents: float = Field(default=1.1, ge=0)
    """What one text costs (Twilio's US price for one segment plus carrier fees)."""

    # AI planner (any OpenAI-compatible endpoint)
    openai_base_url: str | None = None
    openai_api_key: SecretStr | None = None
    openai_model: str = "gpt-4o-mini"
    openai_timeout_seconds: float = Field(default=30.0, gt=0)
    openai_max_retries: int = Field(default=2, ge=0, le=5)
    """Retries of a failed call (timeouts, 429, 5xx), with the openai package's backoff."""
    openai_input_price_per_million: float = Field(default=0.15, ge=0)
    openai_output_price_per_million: float = Field(default=0.60, ge=0)
    """Dollars per million tokens, to record what each plan cost (defaults: gpt-4o-mini)."""

    # Sign-in
    session_idle_minutes: int = Field(default=60, ge=1)
    session_max_hours: int = Field(default=12, ge=1)
    """A sign-in ends after this long however active it is (a shift, then sign in again)."""
    login_max_attempts: int = Field(default=5, ge=1)
    login_lockout_minutes: int = Field(default=15, ge=1)
    login_client_max_attempts: int = Field(default=20, ge=1)
    """Failed sign-ins from one address, to any accounts, within the lockout window before that
    address is refused for a while."""
    password_hash_rounds: int = Field(default=12, ge=4, le=16)
    """bcrypt cost factor: each step doubles the work of checking (and of guessing) a password."""
    login_sleep_seconds: float = Field(default=0.7, ge=0)
    """Pause before a sign-in is answered, to blunt scripted guessing."""

    _ignored_placeholders: list[str] = PrivateAttr(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _blank_is_unset(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        return {k: v for k, v in data.items() if not (isinstance(v, str) and not v.strip())}

    @model_validator(mode="after")
    def _placeholder_secrets_are_unset(self) -> Settings:
        for name in PROVIDER_SECRETS:
            value: SecretStr | None = getattr(self, name)
            if value is not None and looks_like_placeholder(value.get_secret_value()):
                setattr(self, name, None)
                self._ignored_placeholders.append(name.upper())
        return self

    @property
    def ignored_placeholders(self) -> list[str]:
        """The provider secrets set to a placeholder, and so taken as unset."""
        return list(self._ignored_placeholders)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def sqlite_file(self) -> Path | None:
        """The SQLite database file, or None (PostgreSQL, or SQLite in memory)."""
        if not self.is_sqlite:
            return None
        database = make_url(self.database_url).database
        return Path(database).resolve() if database and database != ":memory:" else None

    @property
    def files_dir(self) -> Path:
        """Where this install keeps files of its own (held unsubscribes, uploads): DATA_DIR
        when set, else beside its SQLite database, else data/."""
        if self.data_dir is not None:
            return self.data_dir
        return self.sqlite_file.parent if self.sqlite_file else DATA_DIR

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, dotenv_settings, SecretsTomlSource(settings_cls))


class SecretsTomlSource(InitSettingsSource):
    """Reads `.streamlit/secrets.toml`, whose keys are written like environment variables."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path = SECRETS_TOML) -> None:
        data: dict[str, Any] = {}
        if path.is_file():
            with path.open("rb") as f:
                data = {key.lower(): value for key, value in tomllib.load(f).items()}
        super().__init__(settings_cls, data)


@functools.cache
def get_settings() -> Settings:
    """The process's settings, read once; `core.db.reset_engines()` forgets them."""
    return Settings()
