"""Email through a plain SMTP mailbox (smtplib), for stores whose host gives them one.

smtplib connections are not thread-safe, so each sending thread keeps its own, opened on first
use and reopened after the server drops it.
"""

from __future__ import annotations

import smtplib
import ssl
import threading
from datetime import datetime
from email.message import EmailMessage
from email.utils import make_msgid

from core.messaging.providers import Outcome, Outgoing
from core.models import Channel

TIMEOUT_SECONDS = 30


class Smtp:
    name = "smtp"
    channel = Channel.EMAIL

    def __init__(
        self, *, host: str, port: int, username: str | None, password: str | None, security: str
    ) -> None:
        self.host, self.port = host, port
        self.username, self.password = username, password
        self.security = security
        self.local = threading.local()

    def send(self, message: Outgoing) -> Outcome:
        email = self._compose(message)
        try:
            self._connection().send_message(email)
        except smtplib.SMTPRecipientsRefused as exc:
            code, reason = next(iter(exc.recipients.values()))
            return self._refused(message, code, reason)
        except smtplib.SMTPResponseException as exc:
            self._drop()
            return self._refused(message, exc.smtp_code, exc.smtp_error)
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            return Outcome(message.message_id, False, code="network", error=str(exc)[:300])
        return Outcome(message.message_id, True, provider_id=email["Message-ID"].strip("<>"))

    def find(self, key: str, to: str, since: datetime) -> str | None:
        """A mailbox cannot be asked what it sent: a message lost with its worker goes again."""
        return None

    def _compose(self, message: Outgoing) -> EmailMessage:
        email = EmailMessage()
        email["From"], email["To"], email["Subject"] = message.sender, message.to, message.subject
        domain = message.sender.rsplit("@", 1)[-1].rstrip(">") or None
        email["Message-ID"] = make_msgid(domain=domain)
        email["X-Message-Key"] = message.key
        for name, value in message.headers.items():
            email[name] = value
        email.set_content(message.text)
        if message.html:
            email.add_alternative(message.html, subtype="html")
        return email

    @staticmethod
    def _refused(message: Outgoing, code: int, reason: bytes | str) -> Outcome:
        text = reason.decode(errors="replace") if isinstance(reason, bytes) else str(reason)
        # 5xx is the server's final word (no such mailbox); 4xx means try again later.
        return Outcome(
            message.message_id, False, code=str(code), error=text[:300], permanent=500 <= code < 600
        )

    def _connection(self) -> smtplib.SMTP:
        connection = getattr(self.local, "connection", None)
        if connection is None:
            if self.security == "ssl":
                connection = smtplib.SMTP_SSL(
                    self.host,
                    self.port,
                    timeout=TIMEOUT_SECONDS,
                    context=ssl.create_default_context(),
                )
            else:
                connection = smtplib.SMTP(self.host, self.port, timeout=TIMEOUT_SECONDS)
                if self.security == "starttls":
                    connection.starttls(context=ssl.create_default_context())
            if self.username and self.password:
                connection.login(self.username, self.password)
            self.local.connection = connection
        return connection

    def _drop(self) -> None:
        connection = getattr(self.local, "connection", None)
        self.local.connection = None
        if connection is not None:
            try:
                connection.quit()
            except (smtplib.SMTPException, OSError):
                connection.close()
