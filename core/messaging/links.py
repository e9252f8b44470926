"""Signed unsubscribe links: /u/<token>, where the token names the message it came in and is
signed (HMAC-SHA256) with the key derived for links (`core.infra.keys`). A token cannot be forged
or guessed from another one, and it never expires: CAN-SPAM wants links that still work 30 days
on — so links signed before keys were derived, with the master key itself, are still accepted."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence

from core.errors import ValidationError
from core.infra import keys

SIGNATURE_BYTES = 16


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def link_key() -> bytes:
    """The key new links are signed with."""
    return keys.key_for("unsubscribe-links")


def accepted_link_keys() -> tuple[bytes, ...]:
    """The keys a link may be signed with: the derived one, and the master key that signed the
    links sent before keys were derived (November 2026)."""
    return (link_key(), keys.master_key())


def _sign(key: bytes, payload: bytes) -> bytes:
    return hmac.new(key, b"unsubscribe:" + payload, hashlib.sha256).digest()[:SIGNATURE_BYTES]


def unsubscribe_token(key: bytes, message_id: int) -> str:
    payload = str(message_id).encode()
    return f"{_b64(payload)}.{_b64(_sign(key, payload))}"


def message_id_from(accepted: Sequence[bytes], token: str) -> int:
    """The message an unsubscribe token was made for, signed with any of the `accepted` keys.

    Raises:
        ValidationError: the token is malformed or its signature is wrong.
    """
    try:
        payload_text, signature_text = token.split(".", 1)
        payload, signature = _unb64(payload_text), _unb64(signature_text)
        valid = any(hmac.compare_digest(signature, _sign(key, payload)) for key in accepted)
        message_id = int(payload.decode())
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationError("This unsubscribe link is not valid.") from exc
    if not valid:
        raise ValidationError("This unsubscribe link is not valid.")
    return message_id


def unsubscribe_url(base_url: str, key: bytes, message_id: int) -> str:
    return f"{base_url.rstrip('/')}/u/{unsubscribe_token(key, message_id)}"
