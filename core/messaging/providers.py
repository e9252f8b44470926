"""Email and text-message providers behind one interface.

Every provider takes one rendered message and answers with an `Outcome` that says whether it was
accepted and, if not, whether trying again could help. Base URLs come from the settings, so the
tests talk to local servers that speak the same APIs. Requests go through a pooled
`requests.Session` (keep-alive; the sender calls a provider from several threads at once).
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

import requests
from requests.adapters import HTTPAdapter

from core.models import Channel

TIMEOUT_SECONDS = (5, 30)
"""Connect, read. A provider slower than this is failing; the message is retried later."""

POOL_SIZE = 32
CLOCK_SKEW = timedelta(minutes=1)


@dataclass(frozen=True)
class Outgoing:
    """One rendered message, ready for a provider."""

    message_id: int
    key: str
    channel: Channel
    to: str
    text: str
    subject: str = ""
    html: str = ""
    sender: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Outcome:
    message_id: int
    accepted: bool
    provider_id: str | None = None
    code: str | None = None
    error: str = ""
    permanent: bool = False
    """Trying again cannot help (bad address, unsubscribed number): suppress, do not retry."""
    segments: int = 0
    provider: str = ""
    """Who took it, when that is not the provider asked (a failover)."""


def network_failure(message: Outgoing, exc: requests.RequestException) -> Outcome:
    """No answer. A read timeout is marked as such: the provider may have taken the message,
    so it must not be handed to another provider (see `routing.Failover`)."""
    code = "timeout" if isinstance(exc, requests.ReadTimeout) else "network"
    return Outcome(message.message_id, False, code=code, error=str(exc)[:300])


class ProviderUnavailable(Exception):
    """The provider could not say whether it has a message: ask again later."""


class Provider(Protocol):
    @property
    def name(self) -> str: ...

    channel: Channel

    def send(self, message: Outgoing) -> Outcome: ...

    def find(self, key: str, to: str, since: datetime) -> str | None:
        """The provider's id for a message it accepted (by our key, or failing that by recipient
        and time), None when it has none. Raises ProviderUnavailable."""
        ...


def _get(url: str, auth: tuple[str, str], params: dict[str, str]) -> dict[str, Any]:
    try:
        response = http_session().get(url, params=params, auth=auth, timeout=TIMEOUT_SECONDS)
    except requests.RequestException as exc:
        raise ProviderUnavailable(str(exc)) from exc
    if response.status_code != 200:
        raise ProviderUnavailable(f"{response.status_code} {_error_text(response)}")
    return _json(response)


@functools.cache
def http_session() -> requests.Session:
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=POOL_SIZE)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


class Sandbox:
    """Accepts everything and sends nothing: the default with no provider credentials. The
    message rows show what would have gone out."""

    name = "sandbox"

    def __init__(self, channel: Channel) -> None:
        self.channel = channel

    def send(self, message: Outgoing) -> Outcome:
        return Outcome(message.message_id, True, provider_id=f"sandbox-{message.key}")

    def find(self, key: str, to: str, since: datetime) -> str | None:
        return None  # it keeps nothing: resending from the sandbox sends nothing anyway


class Mailgun:
    """Mailgun's HTTP API: POST /v3/{domain}/messages, basic auth as `api`."""

    name = "mailgun"
    channel = Channel.EMAIL

    def __init__(self, *, base_url: str, domain: str, api_key: str) -> None:
        self.url = f"{base_url.rstrip('/')}/v3/{domain}/messages"
        self.events_url = f"{base_url.rstrip('/')}/v3/{domain}/events"
        self.auth = ("api", api_key)

    def find(self, key: str, to: str, since: datetime) -> str | None:
        """Mailgun's events API, filtered on the message_key variable every send carries."""
        found = _get(
            self.events_url,
            self.auth,
            {
                "event": "accepted",
                "user-variables": json.dumps({"message_key": key}),
                "begin": f"{since.timestamp():.0f}",
                "ascending": "yes",
                "limit": "1",
            },
        )
        items = found.get("items") or []
        if not items:
            return None
        headers = (items[0].get("message") or {}).get("headers") or {}
        return str(headers.get("message-id") or items[0].get("id", "")).strip("<>")

    def send(self, message: Outgoing) -> Outcome:
        data: list[tuple[str, str]] = [
            ("from", message.sender),
            ("to", message.to),
            ("subject", message.subject),
            ("text", message.text),
            ("html", message.html),
            ("v:message_key", message.key),
        ]
        data += [(f"h:{name}", value) for name, value in message.headers.items()]
        data += [("o:tag", tag) for tag in message.tags]
        try:
            response = http_session().post(
                self.url, data=data, auth=self.auth, timeout=TIMEOUT_SECONDS
            )
        except requests.RequestException as exc:
            return network_failure(message, exc)
        if response.status_code == 200:
            return Outcome(message.message_id, True, provider_id=_mailgun_id(response))
        return Outcome(
            message.message_id,
            False,
            code=str(response.status_code),
            error=_error_text(response),
            # 400 is a message Mailgun will never take (a bad address); 401/403 are our
            # credentials, 429 and 5xx are Mailgun's load: all worth another try later.
            permanent=response.status_code == 400,
        )


def _mailgun_id(response: requests.Response) -> str:
    return str(response.json().get("id", "")).strip("<>")


class Twilio:
    """Twilio's Messages API: POST /2010-04-01/Accounts/{sid}/Messages.json."""

    name = "twilio"
    channel = Channel.SMS
    PERMANENT_CODES = frozenset(
        {
            "21211",
            "21214",
            "21408",
            "21610",
            "21612",
            "21614",
            "30004",
            "30005",
            "30006",
            "30007",
            "30824",
            "30825",
            "30875",
        }
    )
    """Invalid, unreachable, landline, opted out or blocked for content: retrying cannot help."""

    def __init__(
        self,
        *,
        base_url: str,
        account_sid: str,
        auth_token: str,
        from_number: str | None,
        messaging_service_sid: str | None,
        status_callback: str | None,
    ) -> None:
        self.url = f"{base_url.rstrip('/')}/2010-04-01/Accounts/{account_sid}/Messages.json"
        self.auth = (account_sid, auth_token)
        self.sender = (
            {"MessagingServiceSid": messaging_service_sid}
            if messaging_service_sid
            else {"From": from_number or ""}
        )
        self.status_callback = status_callback

    def find(self, key: str, to: str, since: datetime) -> str | None:
        """Twilio keeps no key of ours: a message to the same number created since the claim."""
        found = _get(self.url, self.auth, {"To": to, "DateSent>": since.date().isoformat()})
        for sent in found.get("messages") or []:
            created = parsedate_to_datetime(str(sent.get("date_created", "")))
            if created >= since - CLOCK_SKEW:
                return str(sent.get("sid"))
        return None

    def send(self, message: Outgoing) -> Outcome:
        data = {"To": message.to, "Body": message.text, **self.sender}
        if self.status_callback:
            data["StatusCallback"] = self.status_callback
        try:
            response = http_session().post(
                self.url, data=data, auth=self.auth, timeout=TIMEOUT_SECONDS
            )
        except requests.RequestException as exc:
            return network_failure(message, exc)
        body = _json(response)
        if response.status_code in (200, 201):
            return Outcome(
                message.message_id,
                True,
                provider_id=str(body.get("sid", "")),
                segments=int(body.get("num_segments") or 1),
            )
        code = str(body.get("code") or response.status_code)
        return Outcome(
            message.message_id,
            False,
            code=code,
            error=str(body.get("message") or _error_text(response))[:300],
            permanent=code in self.PERMANENT_CODES,
        )


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _error_text(response: requests.Response) -> str:
    body = _json(response)
    return str(body.get("message") or response.text or response.reason)[:300]
