"""The app's secret key, and the keys derived from it for each use.

One master key signs nothing itself: each use (unsubscribe links, offer codes, the first-run
setup token) gets its own key derived from it, so a key that leaks from one use opens no other.

Where the master key comes from fails closed:

- `SECRET_KEY`, when set, must be at least 32 bytes and not a placeholder (the example files'
  value, "changeme", …): anything else stops the app at start with the reason.
- Unset, a single-machine install (SQLite, jobs in the app process) generates a key once and keeps
  it in `secret.key` beside the database file, readable by its owner only — never in the
  database, so a copy of the database signs nothing.
- Unset with PostgreSQL or Redis workers, every process must agree on one key: the app refuses
  to start until `SECRET_KEY` is set.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from core.config import Settings, get_settings, looks_like_placeholder

MIN_SECRET_BYTES = 32
KEY_FILE_NAME = "secret.key"
HOW_TO_MAKE_ONE = "python -c 'import secrets; print(secrets.token_urlsafe(48))'"


class InsecureSecret(RuntimeError):
    """The configured secret cannot be trusted; the message says what to set."""


def check_secret(value: str, *, name: str = "SECRET_KEY") -> None:
    """Refuse a secret that is too short or a known placeholder.

    Raises:
        InsecureSecret: with what is wrong and how to make a good one.
    """
    length = len(value.encode())
    if looks_like_placeholder(value):
        raise InsecureSecret(
            f"{name} is a placeholder, not a secret. Set it to a random string of at least "
            f"{MIN_SECRET_BYTES} bytes, e.g. from: {HOW_TO_MAKE_ONE}"
        )
    if length < MIN_SECRET_BYTES:
        raise InsecureSecret(
            f"{name} is {length} bytes long; it must be at least {MIN_SECRET_BYTES}. Make one "
            f"with: {HOW_TO_MAKE_ONE}"
        )


def master_key(settings: Settings | None = None) -> bytes:
    """The install's master key (see the module's docstring for where it comes from).

    Raises:
        InsecureSecret: SECRET_KEY is weak, or missing where every process must share it.
    """
    settings = settings or get_settings()
    configured = settings.secret_key.get_secret_value() if settings.secret_key else None
    return _master_key(configured, str(key_file(settings) or ""))


@functools.cache
def _master_key(configured: str | None, key_file_path: str) -> bytes:
    if configured is not None:
        check_secret(configured)
        return configured.encode()
    if not key_file_path:
        raise InsecureSecret(
            "SECRET_KEY is not set. With PostgreSQL or Redis workers every process must sign "
            f"with the same key: set SECRET_KEY to a random string of at least "
            f"{MIN_SECRET_BYTES} bytes, e.g. from: {HOW_TO_MAKE_ONE}"
        )
    return _generated_key(Path(key_file_path))


def key_file(settings: Settings | None = None) -> Path | None:
    """Where a single-machine install keeps its generated key; None where there is no such
    place (PostgreSQL, or jobs on Redis workers that may run elsewhere)."""
    settings = settings or get_settings()
    if settings.redis_url or settings.sqlite_file is None:
        return None
    return settings.sqlite_file.parent / KEY_FILE_NAME


def uses_generated_key(settings: Settings | None = None) -> bool:
    """True when the key is the one generated on this machine (fine for trying the app; set
    SECRET_KEY before going live)."""
    settings = settings or get_settings()
    return settings.secret_key is None and key_file(settings) is not None


def key_for(purpose: str, settings: Settings | None = None) -> bytes:
    """The key for one use, derived from the master key (HMAC-SHA256 as the derivation, as in
    HKDF's expand step with a single block)."""
    return hmac.new(master_key(settings), f"lastcall/{purpose}".encode(), hashlib.sha256).digest()


def _generated_key(path: Path) -> bytes:
    """Read the key file, or create it (owner-only) with a fresh key. The file appears whole or
    not at all (written aside, then linked into place), so of two processes starting together
    both read the key of whichever linked first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        draft = path.with_name(f".{path.name}.{os.getpid()}")
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)
    key = path.read_text().strip()
    if not key:
        raise InsecureSecret(f"{path} is empty: delete it, and a new key is generated")
    return key.encode()
