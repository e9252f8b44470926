"""The weekly report managers get by email: last week's key figures against the week before,
sent once a week from Monday 08:00 in the store's time zone to the addresses the store chose.

The send itself is the caller's (jobs): core decides when one is due, claims it once, and
writes the email.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, EmailStr, Field
from pydantic import ValidationError as PydanticError
from sqlalchemy.orm import Session

from core.analytics.dashboard import Dashboard, dashboard
from core.analytics.periods import Period
from core.config import Settings
from core.errors import ValidationError
from core.infra import events
from core.infra.setting_rows import claim, read_setting, save_setting
from core.messaging.providers import Outgoing
from core.messaging.routing import provider_for, why_held
from core.messaging.sender import sender_address
from core.models import Channel
from core.permissions import Actor
from core.store_profile import get_store_profile

SETTINGS_KEY = "weekly_report"
SENT_KEY = "weekly_report_sent"
SEND_AT = time(8)
"""Monday morning, store time: the week before is complete and the manager is at work."""


class WeeklyReportSettings(BaseModel):
    recipients: list[EmailStr] = Field(default_factory=list, max_length=20)
    """Who gets it; nobody by default (then nothing is sent)."""


def recipients_from(addresses: list[str]) -> WeeklyReportSettings:
    """The settings for `addresses` (blank ones skipped), or a ValidationError naming the first
    that is not an email address."""
    given = [a.strip() for a in addresses if a.strip()]
    try:
        return WeeklyReportSettings(recipients=given)
    except PydanticError as exc:
        first = exc.errors()[0]
        where = first["loc"][-1] if len(first["loc"]) > 1 else None
        if isinstance(where, int):
            raise ValidationError(
                f"Recipient {where + 1} ({given[where]!r}) is not an email address."
            ) from None
        raise ValidationError(f"Recipients: {first['msg']}.") from None


def get_weekly_settings(*, session: Session) -> WeeklyReportSettings:
    return read_setting(session, SETTINGS_KEY, WeeklyReportSettings)


def save_weekly_settings(*, session: Session, actor: Actor, settings: WeeklyReportSettings) -> None:
    save_setting(session=session, actor=actor, key=SETTINGS_KEY, value=settings)


def last_week(today: date) -> Period:
    """Monday to Sunday of the week before `today`'s."""
    monday = today - timedelta(days=today.weekday())
    return Period(monday - timedelta(days=7), monday - timedelta(days=1))


def claim_weekly_report(*, session: Session, now: datetime, zone: ZoneInfo) -> Period | None:
    """Last week, if its report is due (from Monday 08:00 store time, so a clock that was
    down on Monday catches up later in the week), has someone to go to, and was not claimed
    yet; claims it. None otherwise."""
    local = now.astimezone(zone)
    monday = local.date() - timedelta(days=local.weekday())
    if local < datetime.combine(monday, SEND_AT, zone):
        return None
    if not get_weekly_settings(session=session).recipients:
        return None
    week = monday.isoformat()
    claimed = claim(session, SENT_KEY, {"week": week}, due=lambda held: held.get("week") != week)
    return last_week(local.date()) if claimed else None


@dataclass(frozen=True)
class WeeklyEmail:
    subject: str
    text: str
    html: str


def weekly_email(board: Dashboard, *, store_name: str, link: str | None) -> WeeklyEmail:
    """The report as an email: a line per figure with its change, the week's campaigns, and a
    link to the dashboard when the app's address is known."""
    period = board.period
    measured = [f for f in board.figures if f.value is not None]
    rows = [(f.label, f.value_text(), f.change_text() or "") for f in measured]
    lines = [
        f"{label}: {value}" + (f" ({change} vs the week before)" if change else "")
        for label, value, change in rows
    ]
    campaigns = [c.name for c in board.current.campaigns]
    unmeasured = dict.fromkeys(f.why for f in board.figures if f.value is None)
    notes = [
        "Campaigns that started: " + ", ".join(campaigns) if campaigns else "",
        *unmeasured,
    ]
    said = " ".join(note for note in notes if note)
    text = "\n".join(
        [
            f"{store_name}: the week of {period.label()}",
            "",
            *lines,
            "",
            said,
            *([f"\nThe dashboard: {link}"] if link else []),
        ]
    )
    cells = "".join(
        f"<tr><td>{escape(label)}</td><td style='text-align:right'><b>{escape(value)}</b></td>"
        f"<td style='text-align:right;color:#555'>{escape(change)}</td></tr>"
        for label, value, change in rows
    )
    html = (
        f"<h2 style='margin:0'>{escape(store_name)}</h2>"
        f"<p>The week of {escape(period.label())}, against the week before.</p>"
        f"<table cellpadding='4' style='border-collapse:collapse;font-family:sans-serif'>"
        f"{cells}</table><p>{escape(said)}</p>"
        + (f"<p><a href='{escape(link, quote=True)}'>Open the dashboard</a></p>" if link else "")
    )
    return WeeklyEmail(subject=f"{store_name}: your week, {period.label()}", text=text, html=html)


def send_weekly_report(
    *, session: Session, period: Period, now: datetime, settings: Settings
) -> dict[str, Any]:
    """Email `period`'s report to the chosen recipients through the store's email provider
    (the sandbox when none is configured: then nothing leaves). Returns what happened."""
    recipients = get_weekly_settings(session=session).recipients
    if not recipients:
        return {"sent": 0, "why": "Nobody is chosen to get the weekly report."}
    if held := why_held(Channel.EMAIL, settings):
        return {"sent": 0, "why": held}
    store = get_store_profile(session=session)
    board = dashboard(session=session, period=period, zone=store.zone, now=now)
    base = settings.public_base_url
    email = weekly_email(
        board, store_name=store.name, link=f"{base.rstrip('/')}/analytics" if base else None
    )
    provider = provider_for(Channel.EMAIL, settings)
    failed = []
    for to in recipients:
        outcome = provider.send(
            Outgoing(
                message_id=0,
                key=f"weekly-report:{period.first}:{to}",
                channel=Channel.EMAIL,
                to=to,
                subject=email.subject,
                text=email.text,
                html=email.html,
                sender=sender_address(store, settings),
                tags=("weekly-report",),
            )
        )
        if not outcome.accepted:
            failed.append(f"{to}: {outcome.error or outcome.code}")
    result = {
        "week": period.first.isoformat(),
        "sent": len(recipients) - len(failed),
        "failed": failed,
        "provider": provider.name,
    }
    events.record(session=session, type="report.weekly_sent", occurred_at=now, data=result)
    return result
