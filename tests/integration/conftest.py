"""Fixtures shared by the messaging tests: a small shop with a running campaign, and local
fakes of Mailgun and Twilio configured as the providers."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from core import imports, segments
from core.config import get_settings
from core.db import reset_engines, session_scope
from core.messaging import outbox, webhooks
from core.messaging.ratelimit import LocalRateLimiter
from core.messaging.sender import Sender
from core.models import (
    Campaign,
    CampaignStatus,
    CampaignStep,
    Channel,
    Customer,
    ImportKind,
    Message,
)
from core.permissions import SYSTEM
from core.store_profile import fill_in_profile
from tests.fakes import MAILGUN_KEY, TWILIO_SID, TWILIO_TOKEN, fake_mailgun, fake_twilio
from tests.moments import NOW
from tests.server import free_ports

STEP_DAY = date(2026, 12, 3)
NOON_CHICAGO = datetime(2026, 12, 3, 18, 0, tzinfo=UTC)
ADULT = date(1980, 5, 1)

PEOPLE: dict[str, dict[str, Any]] = {
    "ana": {
        "email": "ana@example.com",
        "phone": "+13125550101",
        "state": "IL",
        "timezone": "America/Chicago",
        "email_opt_in": True,
        "sms_opt_in": True,
    },
    "bob": {
        "email": "bob@example.com",
        "phone": "+13125550102",
        "state": "IL",
        "email_opt_in": True,
    },
    "cy": {
        "email": "cy@example.com",
        "phone": "+13125550103",
        "state": "IL",
        "email_opt_in": True,
        "sms_opt_in": True,
        "birth_date": date(2008, 1, 1),
    },
    "dee": {
        "email": "Dee@Example.com",
        "phone": "+13125550104",
        "state": "IL",
        "email_opt_in": True,
    },
    "eve": {
        "email": "eve@example.com",
        "phone": "+13055550105",
        "state": "NY",
        "timezone": "America/New_York",
        "email_opt_in": True,
        "sms_opt_in": True,
    },
    "fay": {
        "email": "fay@example.com",
        "phone": "+13125550106",
        "state": "IL",
        "email_opt_in": True,
        "sms_opt_in": True,
        "birth_date": None,
    },
}
"""cy is under 21 and fay has no birth date: neither may ever be messaged. eve lives in New York
with a Florida (305) number: Florida's 20:00 end applies to her texts."""


STORE = {
    "address": "1200 W Fulton St",
    "city": "Chicago",
    "state": "IL",
    "zip": "60607",
    "email": "hello@shop.example.com",
}


def build_shop() -> dict[str, int]:
    """The six people above in one segment, and a running campaign with an email step and a text
    step on STEP_DAY at 10:00 their time. Returns ids by name, plus the campaign's."""
    with session_scope() as session:
        ids = {}
        for name, fields in PEOPLE.items():
            customer = Customer(first_name=name.title(), **{"birth_date": ADULT, **fields})
            for channel in ("email", "sms"):
                if fields.get(f"{channel}_opt_in"):
                    setattr(customer, f"{channel}_opt_in_at", NOON_CHICAGO - timedelta(days=90))
            session.add(customer)
            session.flush()
            ids[name] = customer.id
        fill_in_profile(session=session, fields=STORE)
        segment = segments.create_static_segment(session=session, actor=SYSTEM, name="Everyone")
        segments.add_members(
            session=session,
            actor=SYSTEM,
            segment_id=segment.id,
            customer_ids=ids.values(),
            now=NOON_CHICAGO,
        )
        campaign = Campaign(
            name="Holiday wine",
            type="holiday",
            status=CampaignStatus.RUNNING,
            segment_ids=[segment.id],
            channels=["email", "sms"],
            starts_at=NOON_CHICAGO - timedelta(days=1),
            ends_at=NOON_CHICAGO + timedelta(days=3),
        )
        for position, channel in enumerate(("email", "sms"), start=1):
            step = CampaignStep(
                position=position,
                day=STEP_DAY,
                local_time="10:00",
                segment_id=segment.id,
                channel=channel,
                offer_kind="percent_off",
                offer_value=15,
                offer_category="wine",
                offer_description="15% off a mixed case",
                angle="Stock up for the holidays",
            )
            campaign.steps.append(step)
        session.add(campaign)
        session.flush()
        ids["campaign"] = campaign.id
    return ids


@pytest.fixture
def shop(database: str) -> dict[str, int]:
    return build_shop()


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def make_sender(clock: Clock) -> Sender:
    return Sender(
        unit_of_work=session_scope,
        settings=get_settings(),
        limiters={c: LocalRateLimiter(1_000_000) for c in Channel},
        worker="test-worker",
        clock=clock,
    )


def send_all(sender: Sender) -> dict[str, int]:
    totals: dict[str, int] = {}
    for channel in Channel:
        while (report := sender.send_batch(channel, 50)).claimed:
            for name, value in report.__dict__.items():
                totals[name] = totals.get(name, 0) + value
    return totals


def messages(**where: Any) -> list[Message]:
    with session_scope(read_only=True) as session:
        query = select(Message).order_by(Message.id)
        for name, value in where.items():
            query = query.where(getattr(Message, name) == value)
        return list(session.scalars(query))


def by_customer(shop: dict[str, int]) -> dict[tuple[str, str], Message]:
    names = {v: k for k, v in shop.items() if k != "campaign"}
    return {(names[m.customer_id], m.channel): m for m in messages()}


@pytest.fixture
def providers(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Any]]:
    # The environment first, then the fakes' threads (see tests.fakes.serving).
    mailgun_port, twilio_port = free_ports(2)
    for name, value in {
        "MAILGUN_API_KEY": MAILGUN_KEY,
        "MAILGUN_DOMAIN": "mg.example.com",
        "MAILGUN_BASE_URL": f"http://127.0.0.1:{mailgun_port}",
        "TWILIO_ACCOUNT_SID": TWILIO_SID,
        "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
        "TWILIO_FROM_NUMBER": "+13125550199",
        "TWILIO_BASE_URL": f"http://127.0.0.1:{twilio_port}",
        "PUBLIC_BASE_URL": "https://shop.example.com",
    }.items():
        monkeypatch.setenv(name, value)
    reset_engines()
    with fake_mailgun(mailgun_port) as mailgun, fake_twilio(twilio_port) as twilio:
        yield mailgun, twilio
    reset_engines()


@contextmanager
def sending(now: datetime = NOON_CHICAGO) -> Iterator[tuple[Clock, Sender]]:
    """Queue the due steps at `now`, then yield a sender whose clock reads `now`."""
    clock = Clock(now)
    with session_scope() as session:
        outbox.queue_due_steps(session=session, now=clock.now)
    sender = make_sender(clock)
    try:
        yield clock, sender
    finally:
        sender.close()


def send_with_workers(channel: Channel, *, workers: int = 4, batch: int = 2) -> None:
    """Send everything due on `channel` with several senders at once, started together and
    claiming small batches so their work interleaves."""
    barrier = threading.Barrier(workers)

    def worker() -> None:
        sender = make_sender(Clock(NOON_CHICAGO))
        barrier.wait()
        try:
            while sender.send_batch(channel, batch).claimed:
                pass
        finally:
            sender.close()

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def send_queued(now: datetime = NOON_CHICAGO) -> dict[str, int]:
    with sending(now) as (_, sender):
        return send_all(sender)


def mailgun_event(message: Message, kind: str, **extra: Any) -> None:
    """Apply a Mailgun event (`delivered`, `clicked`, …) for `message`, as the webhook would."""
    with session_scope() as session:
        webhooks.handle_mailgun_event(
            session=session,
            event_data={
                "event": kind,
                "id": f"{kind}-{message.id}",
                "recipient": message.to_address,
                "user-variables": {"message_key": message.key},
                **extra,
            },
            now=NOON_CHICAGO,
        )


def prepare(path: Path, kind: ImportKind = ImportKind.CUSTOMERS, **options: object) -> str:
    """The id of a prepared import of the file at `path`."""
    with session_scope() as session:
        return imports.prepare_import(
            session=session, actor=SYSTEM, kind=kind, path=path, filename=path.name, options=options
        ).id


def load(
    tmp_path: Path,
    content: str | bytes,
    kind: ImportKind = ImportKind.CUSTOMERS,
    name: str = "file.csv",
    chunk_rows: int = imports.CHUNK_ROWS,
    defer_indexes_from: int = imports.DEFER_INDEXES_FROM_ROWS,
    **options: object,
) -> tuple[imports.ImportSummary, list[tuple[int, str, str, str]]]:
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    import_id = prepare(path, kind, **options)
    summary = imports.run_import(
        unit_of_work=session_scope,
        actor=SYSTEM,
        import_id=import_id,
        now=NOW,
        chunk_rows=chunk_rows,
        defer_indexes_from=defer_indexes_from,
    )
    with session_scope() as session:
        found = [
            (p.row_number, p.severity, p.field, p.message)
            for p in imports.problems(session=session, import_id=import_id)
        ]
    return summary, found
