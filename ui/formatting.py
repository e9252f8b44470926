"""Small display helpers shared by pages."""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import phonenumbers

from core.compliance.age import age_on


def when(moment: datetime | None, zone: ZoneInfo, *, with_time: bool = False) -> str:
    if moment is None:
        return "—"
    local = moment.astimezone(zone)
    return local.strftime("%b %d, %Y %H:%M" if with_time else "%b %d, %Y")


def phone(number: str | None) -> str:
    """+13125550123 → (312) 555-0123; other countries in international form."""
    if not number:
        return ""
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return number
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if parsed.country_code == 1
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(parsed, style)


def age_badge(birth_date: date | None, verified: bool, today: date) -> str:
    """A short label for the age check that marketing depends on."""
    if birth_date is None:
        return ":gray-badge[No birth date — not marketed to]"
    age = age_on(birth_date, today)
    if age < 21:
        return f":red-badge[Under 21 ({age}) — never marketed to]"
    if not verified:
        return f":orange-badge[{age}, ID not checked]"
    return f":green-badge[21+ ({age}), ID checked]"


RISK_BADGES = {
    "low": ":green-badge[Churn risk: low]",
    "medium": ":orange-badge[Churn risk: medium]",
    "high": ":red-badge[Churn risk: high]",
}


def risk_badge(risk: str | None) -> str:
    return RISK_BADGES.get(risk or "", ":gray-badge[Not scored yet]")


STATUS_BADGES = {
    "draft": ":gray-badge[Draft]",
    "scheduled": ":blue-badge[Scheduled]",
    "running": ":green-badge[Running]",
    "paused": ":orange-badge[Paused]",
    "completed": ":violet-badge[Completed]",
    "archived": ":gray-badge[Archived]",
}


def status_badge(status: str) -> str:
    return STATUS_BADGES.get(status, status)


_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|~<>$:])")


def md(text: object) -> str:
    """`text` (a name, a goal, a file name: anything typed or imported) safe inside Markdown:
    every character Markdown or Streamlit's directives act on is escaped, so a customer called
    `[Pay here](https://…)` or `![](https://…/pixel)` is shown as typed, not as a link or image."""
    return _MARKDOWN.sub(r"\\\1", str(text))


PROVIDER_NAMES = {
    "mailgun": "Mailgun",
    "twilio": "Twilio",
    "smtp": "your mail server (SMTP)",
    "sandbox": "the sandbox (test mode: nothing leaves this app)",
    "demo": "the demo store's history (simulated)",
}


def provider_name(name: str) -> str:
    """A provider as the person who sent through it knows it (mailgun+smtp: with a fallback)."""
    return " with ".join(PROVIDER_NAMES.get(part, part) for part in name.split("+"))
