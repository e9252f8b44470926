"""Signed unsubscribe links: /u/<token>, where the token names the message it came in and is
signed with the store's secret key (HMAC-SHA256). A token cannot be forged or guessed from
another one, and it never expires: CAN-SPAM wants links that still work 30 days on."""

from __future__ import annotations

import base64
import hashlib
import hmac

from core.errors import ValidationError

SIGNATURE_BYTES = 16


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(secret: str, payload: bytes) -> bytes:
    return hmac.new(secret.encode(), b"unsubscribe:" + payload, hashlib.sha256).digest()[
        :SIGNATURE_BYTES
    ]


def unsubscribe_token(secret: str, message_id: int) -> str:
    payload = str(message_id).encode()
    return f"{_b64(payload)}.{_b64(_sign(secret, payload))}"


def message_id_from(secret: str, token: str) -> int:
    """The message an unsubscribe token was made for.

    Raises:
        ValidationError: the token is malformed or its signature is wrong.
    """
    try:
        payload_text, signature_text = token.split(".", 1)
        payload, signature = _unb64(payload_text), _unb64(signature_text)
        valid = hmac.compare_digest(signature, _sign(secret, payload))
        message_id = int(payload.decode())
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationError("This unsubscribe link is not valid.") from exc
    if not valid:
        raise ValidationError("This unsubscribe link is not valid.")
    return message_id


def unsubscribe_url(base_url: str, secret: str, message_id: int) -> str:
    return f"{base_url.rstrip('/')}/u/{unsubscribe_token(secret, message_id)}"
