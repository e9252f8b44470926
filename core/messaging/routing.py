"""Which provider sends each channel, and failing over from one email provider to another.

Email goes through Mailgun when it is configured, else an SMTP mailbox, else the sandbox. With
both configured, Mailgun sends and the mailbox stands by: a circuit breaker opens after
`FAILURES_TO_OPEN` failures in a row that say Mailgun did not take the message (an error answer
or no connection), and while it is open (`OPEN_SECONDS`) messages go to the mailbox. A message is
only passed on when the first provider said no, so it is never sent by both; an answer that never
came (a read timeout) is not passed on, because the first provider may have taken it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from core.config import Settings
from core.errors import ValidationError
from core.messaging.providers import Mailgun, Outcome, Outgoing, Provider, Sandbox, Twilio
from core.messaging.smtp import Smtp
from core.models import Channel

FAILURES_TO_OPEN = 5
OPEN_SECONDS = 60.0


class CircuitBreaker:
    def __init__(
        self,
        failures_to_open: int = FAILURES_TO_OPEN,
        open_seconds: float = OPEN_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.failures_to_open, self.open_seconds, self.clock = failures_to_open, open_seconds, clock
        self.failures = 0
        self.opened_at: float | None = None
        self.lock = threading.Lock()

    @property
    def is_open(self) -> bool:
        with self.lock:
            if self.opened_at is None:
                return False
            if self.clock() - self.opened_at >= self.open_seconds:
                self.opened_at, self.failures = None, 0  # half-open: try the primary again
                return False
            return True

    def record(self, ok: bool) -> None:
        with self.lock:
            self.failures = 0 if ok else self.failures + 1
            if self.failures >= self.failures_to_open and self.opened_at is None:
                self.opened_at = self.clock()


def _refused_outright(outcome: Outcome) -> bool:
    """The provider answered no (or could not be reached): it certainly did not send."""
    return not outcome.accepted and not outcome.permanent and outcome.code != "timeout"


class Failover:
    channel = Channel.EMAIL

    def __init__(self, primary: Provider, secondary: Provider, breaker: CircuitBreaker) -> None:
        self.primary, self.secondary, self.breaker = primary, secondary, breaker

    @property
    def name(self) -> str:
        return self.secondary.name if self.breaker.is_open else self.primary.name

    def find(self, key: str, to: str, since: datetime) -> str | None:
        return self.primary.find(key, to, since) or self.secondary.find(key, to, since)

    def send(self, message: Outgoing) -> Outcome:
        if not self.breaker.is_open:
            outcome = self.primary.send(message)
            self.breaker.record(not _refused_outright(outcome))
            if not _refused_outright(outcome):
                return outcome
        return replace(self.secondary.send(message), provider=self.secondary.name)


def why_held(channel: Channel | str, settings: Settings) -> str | None:
    """Why messages of `channel` may not leave through the configured provider yet, or None.

    Marketing email must carry an unsubscribe link that works (CAN-SPAM; RFC 8058's one-click
    needs https): through a real provider, email waits in the outbox until PUBLIC_BASE_URL is
    the https address the app is reached at. The sandbox sends nowhere, so it needs none.
    """
    if Channel(channel) != Channel.EMAIL or isinstance(provider_for(channel, settings), Sandbox):
        return None
    if (settings.public_base_url or "").lower().startswith("https://"):
        return None
    return (
        "Email is held: PUBLIC_BASE_URL is not an https address, so unsubscribe links would not "
        "work (the law for marketing email requires one that does). Set PUBLIC_BASE_URL to the "
        "https address this app is reached at."
    )


TEST_MODE_HINTS = {
    Channel.EMAIL: "set MAILGUN_API_KEY and MAILGUN_DOMAIN, or SMTP_HOST",
    Channel.SMS: "set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER",
}


@dataclass(frozen=True)
class ChannelStatus:
    """How a channel sends right now, for the banner and the Store page."""

    channel: Channel
    provider: str
    """mailgun, smtp, mailgun+smtp, twilio, or sandbox."""
    problem: str | None = None
    """Why nothing goes out even so (held email, an incomplete Twilio setup)."""

    @property
    def test_mode(self) -> bool:
        """Messages go to the sandbox: recorded as sent, and nothing leaves the app."""
        return self.provider == Sandbox.name

    @property
    def hint(self) -> str:
        return TEST_MODE_HINTS[self.channel] if self.test_mode else ""


def channel_statuses(settings: Settings) -> list[ChannelStatus]:
    """Each channel's provider as `provider_for` would pick it, and what stops it."""
    statuses = []
    for channel in Channel:
        try:
            provider = provider_for(channel, settings)
        except ValidationError as exc:
            statuses.append(ChannelStatus(channel, "twilio", str(exc)))
            continue
        name = (
            f"{provider.primary.name}+{provider.secondary.name}"
            if isinstance(provider, Failover)
            else provider.name
        )
        statuses.append(ChannelStatus(channel, name, why_held(channel, settings)))
    return statuses


def provider_for(channel: Channel | str, settings: Settings) -> Provider:
    """The configured provider for `channel`, or the sandbox when it has no credentials."""
    channel = Channel(channel)
    if channel == Channel.EMAIL:
        configured = [p for p in (_mailgun(settings), _smtp(settings)) if p is not None]
        if len(configured) == 2:
            return Failover(configured[0], configured[1], CircuitBreaker())
        return configured[0] if configured else Sandbox(channel)
    if settings.twilio_account_sid and settings.twilio_auth_token:
        if not (settings.twilio_from_number or settings.twilio_messaging_service_sid):
            raise ValidationError(
                "Twilio needs TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID to send from."
            )
        base = settings.public_base_url
        return Twilio(
            base_url=settings.twilio_base_url,
            account_sid=settings.twilio_account_sid,
            auth_token=settings.twilio_auth_token.get_secret_value(),
            from_number=settings.twilio_from_number,
            messaging_service_sid=settings.twilio_messaging_service_sid,
            status_callback=f"{base.rstrip('/')}/webhooks/twilio/status" if base else None,
        )
    return Sandbox(channel)


def _mailgun(settings: Settings) -> Mailgun | None:
    if not (settings.mailgun_api_key and settings.mailgun_domain):
        return None
    return Mailgun(
        base_url=settings.mailgun_base_url,
        domain=settings.mailgun_domain,
        api_key=settings.mailgun_api_key.get_secret_value(),
    )


def _smtp(settings: Settings) -> Smtp | None:
    if not settings.smtp_host:
        return None
    return Smtp(
        host=settings.smtp_host,
        port=settings.smtp_port,
        username=settings.smtp_username,
        password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
        security=settings.smtp_security,
    )
