"""Who may create the first administrator.

On the owner's own machine, trying the app with no configuration, whoever opens it first is the
owner. Anywhere else — PostgreSQL, Redis or a public address configured, or a browser that is
not on the machine — the first visitor could be anyone who found the address, so the setup asks
for a token that only the operator can read: it is printed in the app's log at start while no
user exists.
"""

from __future__ import annotations

import base64
import hmac
import ipaddress

from core.config import Settings
from core.errors import ValidationError
from core.infra import keys

UNPROVEN_SETUP = (
    "The setup token is missing or wrong. It is printed in the app's log when the app starts "
    "(look for 'setup token')."
)


def setup_token(settings: Settings | None = None) -> str:
    """The token, e.g. `K7Q2-M9XD-4HTB-P3WA`: derived from the master key, so every process
    and every restart shows the same one, and it opens nothing once an administrator exists."""
    code = base64.b32encode(keys.key_for("first-run-setup", settings)[:10]).decode()
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def needs_setup_token(*, settings: Settings, client: str | None) -> bool:
    """Whether a setup from `client` (the browser's address as the server saw it, not a
    forwarded one) must show the token."""
    deployed = not settings.is_sqlite or bool(settings.redis_url or settings.public_base_url)
    return deployed or not is_loopback(client)


def is_loopback(address: str | None) -> bool:
    """127.0.0.0/8 and ::1, also as a dual-stack server reports IPv4 (`::ffff:127.0.0.1`)."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    mapped = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
    return (mapped or ip).is_loopback


def check_setup_token(*, settings: Settings, client: str | None, given: str | None) -> None:
    """Raises:
    ValidationError: the token is needed and `given` is not it."""
    if not needs_setup_token(settings=settings, client=client):
        return
    typed = "".join((given or "").upper().split()).replace("-", "")
    if not hmac.compare_digest(typed, setup_token(settings).replace("-", "")):
        raise ValidationError(UNPROVEN_SETUP, field="setup_token")
