"""Sending on SQLite and PostgreSQL: the outbox, the rules at send time, the providers (local
fakes speaking Mailgun's and Twilio's APIs), retries, suppressions and pausing."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, func, insert, select, update

from core import customers
from core.config import get_settings
from core.db import reset_engines, session_scope, utc_now
from core.infra import job_rows
from core.messaging import links, outbox, suppressions
from core.messaging.sender import MAX_ATTEMPTS
from core.messaging.template_defaults import install_default_templates
from core.models import (
    Campaign,
    CampaignStatus,
    CampaignStep,
    Channel,
    ContactStatus,
    Customer,
    Event,
    Message,
    MessageStatus,
    SegmentMember,
    Setting,
    Suppression,
    SuppressionReason,
    Template,
)
from core.permissions import SYSTEM
from core.store_profile import STORE_PROFILE_KEY
from jobs import flows, queue
from tests.integration.conftest import (
    ADULT,
    NOON_CHICAGO,
    by_customer,
    messages,
    send_all,
    send_queued,
    sending,
)

# --- the outbox -----------------------------------------------------------------------------


@pytest.mark.both_databases
def test_steps_become_one_message_per_reachable_member_once(shop: dict[str, int]) -> None:
    with session_scope() as session:
        assert outbox.queue_due_steps(session=session, now=datetime(2026, 11, 30, tzinfo=UTC)) == []
    with session_scope() as session:
        queued = outbox.queue_due_steps(session=session, now=NOON_CHICAGO - timedelta(days=1))
    assert [q.messages for q in queued] == [4, 2]  # emails: ana bob dee eve; texts: ana eve
    found = by_customer(shop)
    assert set(found) == {
        ("ana", "email"),
        ("bob", "email"),
        ("dee", "email"),
        ("eve", "email"),
        ("ana", "sms"),
        ("eve", "sms"),
    }
    # 10:00 in each recipient's own zone: New York's comes an hour before Chicago's.
    assert found["eve", "email"].send_after == datetime(2026, 12, 3, 15, 0, tzinfo=UTC)
    assert found["ana", "email"].send_after == datetime(2026, 12, 3, 16, 0, tzinfo=UTC)
    assert (
        found["ana", "sms"].key
        == f"c{shop['campaign']}:s{found['ana', 'sms'].step_id}:u{shop['ana']}:sms"
    )

    # Queuing the same steps again (a retried job) adds nothing.
    with session_scope() as session:
        for step in session.scalars(select(CampaignStep)):
            step.status = "planned"
    with session_scope() as session:
        outbox.queue_due_steps(session=session, now=NOON_CHICAGO - timedelta(days=1))
    assert len(messages()) == 6


@pytest.mark.both_databases
def test_claims_never_overlap_between_workers(shop: dict[str, int]) -> None:
    with session_scope() as session:
        outbox.queue_due_steps(session=session, now=NOON_CHICAGO)
    claimed: list[list[int]] = []
    barrier = threading.Barrier(3)

    def worker(name: str) -> None:
        barrier.wait()
        with session_scope() as session:
            claimed.append(outbox.claim(session=session, worker=name, limit=3, now=NOON_CHICAGO))

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [i for ids in claimed for i in ids]
    assert len(every) == len(set(every)) == 6
    assert {m.status for m in messages()} == {MessageStatus.SENDING}


@pytest.mark.both_databases
def test_a_dead_workers_claims_go_back_to_the_queue(shop: dict[str, int]) -> None:
    with session_scope() as session:
        outbox.queue_due_steps(session=session, now=NOON_CHICAGO)
    with session_scope() as session:
        assert len(outbox.claim(session=session, worker="dead", limit=10, now=NOON_CHICAGO)) == 6
    with session_scope() as session:
        assert outbox.release_stale_claims(session=session, now=NOON_CHICAGO) == 0
        later = NOON_CHICAGO + timedelta(seconds=get_settings().send_claim_lease_seconds + 1)
        assert outbox.release_stale_claims(session=session, now=later) == 6
    assert {m.status for m in messages()} == {MessageStatus.QUEUED}


# --- sending --------------------------------------------------------------------------------


@pytest.mark.both_databases
def test_sandbox_sends_everything_allowed_exactly_once(shop: dict[str, int]) -> None:
    with sending() as (_, sender):
        totals = send_all(sender)
        assert totals["sent"] == 6 and totals.get("failed", 0) == 0
        assert send_all(sender) == {}  # nothing left, nothing sent twice
    sent = messages(status=MessageStatus.SENT)
    assert {m.provider for m in sent} == {"sandbox"}
    assert sum(m.cost_cents for m in sent) > 0
    with session_scope(read_only=True) as session:
        assert (
            session.scalar(
                select(func.count()).select_from(Event).where(Event.type == "message.sent")
            )
            == 6
        )


def test_mailgun_and_twilio_get_compliant_messages(
    shop: dict[str, int], providers: tuple[Any, Any]
) -> None:
    mailgun, twilio = providers
    send_queued()
    assert sorted(mailgun.recipients("to")) == [
        "Dee@Example.com",
        "ana@example.com",
        "bob@example.com",
        "eve@example.com",
    ]
    email = next(f for f in mailgun.accepted if f["to"] == ["ana@example.com"])
    assert email["h:List-Unsubscribe-Post"] == ["List-Unsubscribe=One-Click"]
    unsubscribe = email["h:List-Unsubscribe"][0]
    assert unsubscribe.startswith("<https://shop.example.com/u/")
    assert "mailto:hello@shop.example.com" in unsubscribe
    html = email["html"][0]
    assert "1200 W Fulton St" in html and "https://shop.example.com/u/" in html
    assert "Hi Ana" in html and "15% off a mixed case" in html
    assert email["text"][0]  # a text part made from the HTML
    assert email["from"] == ["Last Call Liquor <hello@shop.example.com>"]

    texts = {f["To"][0]: f["Body"][0] for f in twilio.accepted}
    assert set(texts) == {"+13125550101", "+13055550105"}
    assert texts["+13125550101"].startswith("Last Call Liquor:")
    assert "Reply STOP to opt out." in texts["+13125550101"]
    sent = by_customer(shop)
    assert sent["ana", "sms"].provider == "twilio"
    assert sent["ana", "sms"].provider_message_id.startswith("SM")
    assert sent["ana", "email"].provider_message_id.endswith("fake@mg.example.com")
    token = unsubscribe.split("/u/")[1].rstrip(">").split(">")[0]
    assert links.message_id_from(links.accepted_link_keys(), token) == sent["ana", "email"].id


@pytest.mark.both_databases
def test_the_rules_are_checked_again_at_send_time(shop: dict[str, int]) -> None:
    with sending() as (_, sender):
        with session_scope() as session:
            session.get(Customer, shop["bob"]).email_opt_in = False  # withdrew after planning
            suppressions.suppress(
                session=session,
                channel="email",
                address="dee@example.com",
                reason=SuppressionReason.COMPLAINT,
            )
        totals = send_all(sender)
    found = by_customer(shop)
    assert found["bob", "email"].status == MessageStatus.SUPPRESSED
    assert found["bob", "email"].error == "no email consent"
    assert found["dee", "email"].status == MessageStatus.SUPPRESSED
    assert "suppressed (complaint)" in found["dee", "email"].error
    assert totals["sent"] == 4 and totals["suppressed"] == 2


@pytest.mark.both_databases
def test_texts_wait_for_the_recipients_legal_hours(shop: dict[str, int]) -> None:
    # 20:30 in New York: eve's Florida number ends texting at 20:00; ana (Chicago, 19:30) is in.
    with sending(datetime(2026, 12, 4, 1, 30, tzinfo=UTC)) as (_, sender):
        sender.send_batch(Channel.SMS, 10)
    found = by_customer(shop)
    assert found["ana", "sms"].status == MessageStatus.SENT
    eve = found["eve", "sms"]
    assert eve.status == MessageStatus.QUEUED and eve.attempts == 0
    assert eve.send_after == datetime(2026, 12, 4, 13, 0, tzinfo=UTC)  # 08:00 New York
    assert eve.error.startswith("quiet hours")


@pytest.mark.both_databases
def test_transient_failures_are_retried_then_given_up(
    shop: dict[str, int], providers: tuple[Any, Any]
) -> None:
    mailgun, _ = providers
    mailgun.flaky["ana@example.com"] = 2
    mailgun.flaky["bob@example.com"] = 99
    with sending() as (clock, sender):
        for _ in range(MAX_ATTEMPTS + 1):
            send_all(sender)
            clock.now += timedelta(minutes=10)  # past every backoff
    found = by_customer(shop)
    assert found["ana", "email"].status == MessageStatus.SENT
    assert found["ana", "email"].attempts == 3
    assert found["bob", "email"].status == MessageStatus.FAILED
    assert found["bob", "email"].attempts == MAX_ATTEMPTS
    assert found["bob", "email"].error.startswith(f"gave up after {MAX_ATTEMPTS} tries")
    assert mailgun.recipients("to").count("ana@example.com") == 1

    # Bob's mailbox works again: a retry from the Sends page queues him and starts a send job.
    mailgun.flaky["bob@example.com"] = 0
    assert flows.retry_messages(actor=SYSTEM, message_ids=[found["ana", "email"].id]) == 0
    assert flows.retry_messages(actor=SYSTEM) == 1
    job = queue.wait_for(recent_job_id(), timeout=30)
    assert job.status == "succeeded", job.error
    assert by_customer(shop)["bob", "email"].status == MessageStatus.SENT
    assert mailgun.recipients("to").count("bob@example.com") == 1


def recent_job_id() -> str:
    with session_scope(read_only=True) as session:
        return job_rows.recent_jobs(session=session, limit=1)[0].id


def test_a_template_test_goes_to_its_author_through_the_provider(
    shop: dict[str, int], providers: tuple[Any, Any]
) -> None:
    mailgun, _ = providers
    with session_scope() as session:
        install_default_templates(session=session, actor=SYSTEM)
        template_id = session.scalars(
            select(Template.id).where(Template.channel == Channel.EMAIL.value)
        ).first()
    assert flows.send_test(actor=SYSTEM, template_id=template_id, to="Me@Example.com") == "mailgun"
    assert queue.wait_for(recent_job_id(), timeout=30).status == "succeeded"
    assert mailgun.recipients("to") == ["me@example.com"]


@pytest.mark.both_databases
def test_permanent_failures_suppress_without_retrying(
    shop: dict[str, int], providers: tuple[Any, Any]
) -> None:
    mailgun, twilio = providers
    mailgun.refuse["bob@example.com"] = (400, {"message": "'to' parameter is not a valid address"})
    twilio.refuse["+13125550101"] = (
        400,
        {"code": 21610, "message": "Attempt to send to unsubscribed recipient", "status": 400},
    )
    send_queued()
    found = by_customer(shop)
    assert found["bob", "email"].status == MessageStatus.FAILED
    assert found["bob", "email"].attempts == 1
    assert found["ana", "sms"].status == MessageStatus.FAILED
    assert found["ana", "sms"].error_code == "21610"
    with session_scope(read_only=True) as session:
        listed = dict(session.execute(select(Suppression.address, Suppression.reason)).all())
        ana = session.get(Customer, shop["ana"])
        assert ana.sms_opt_in is False and ana.email_opt_in is True
    assert listed == {"bob@example.com": "invalid", "+13125550101": "stop"}


@pytest.mark.both_databases
def test_a_paused_campaign_sends_nothing_until_resumed(shop: dict[str, int]) -> None:
    with sending() as (clock, sender):
        with session_scope() as session:
            session.get(Campaign, shop["campaign"]).status = CampaignStatus.PAUSED
        assert send_all(sender) == {}
        with session_scope() as session:
            assert outbox.count_due(session=session, now=clock.now) == 0
            session.get(Campaign, shop["campaign"]).status = CampaignStatus.RUNNING
        assert send_all(sender)["sent"] == 6


def test_workers_share_one_rate_through_redis(redis_url: str) -> None:
    from redis import Redis

    from jobs.rate import RedisRateLimiter

    redis = Redis.from_url(redis_url)
    redis.delete("test:send-rate")
    waits: list[float] = []
    workers = [RedisRateLimiter(redis, "test:send-rate", 600, sleep=waits.append) for _ in "ab"]
    for _ in range(3):
        for limiter in workers:
            limiter.acquire(5)  # half a second's worth at 10 a second
    # The first batch goes at once; each later one, from either worker, half a second on.
    assert waits == pytest.approx([0.5, 1.0, 1.5, 2.0, 2.5], abs=0.05)
    redis.delete("test:send-rate")


def test_no_marketing_email_without_the_stores_postal_address(shop: dict[str, int]) -> None:
    with session_scope() as session:
        session.execute(delete(Setting).where(Setting.key == STORE_PROFILE_KEY))
    totals = send_queued()
    found = by_customer(shop)
    assert found["ana", "email"].status == MessageStatus.FAILED
    assert "postal address is not set" in found["ana", "email"].error
    assert found["ana", "sms"].status == MessageStatus.SENT
    assert totals["failed"] == 4


@pytest.mark.both_databases
def test_a_suppressed_address_is_not_even_queued(shop: dict[str, int]) -> None:
    with session_scope() as session:
        suppressions.suppress(
            session=session,
            channel="email",
            address="ANA@example.com",
            reason=SuppressionReason.HARD_BOUNCE,
        )
        outbox.queue_due_steps(session=session, now=NOON_CHICAGO)
    assert ("ana", "email") not in by_customer(shop) and ("ana", "sms") in by_customer(shop)


@pytest.mark.both_databases
def test_the_list_closes_the_channel_of_whoever_holds_the_address(shop: dict[str, int]) -> None:
    """Customers' email and text status follow the suppression list, so 'Email ok' in the
    lists, segments and reach all agree with what the sender will do."""

    def emailable() -> set[int]:
        with session_scope(read_only=True) as session:
            return set(session.scalars(select(Customer.id).where(Customer.can_email)))

    before = emailable()
    assert shop["ana"] in before
    with session_scope() as session:
        suppressions.suppress(
            session=session,
            channel="email",
            address="ANA@example.com",
            reason=SuppressionReason.COMPLAINT,
        )
        twin = customers.create_customer(
            session=session,
            actor=SYSTEM,
            now=NOON_CHICAGO,
            email="ana@example.com",
            first_name="Ana",
            last_name="Again",
        )
        twin_id = twin.id
    assert emailable() == before - {shop["ana"]}  # the new twin is closed from the start
    with session_scope() as session:
        assert session.get(Customer, twin_id).email_status == ContactStatus.SUPPRESSED
        assert session.get(Customer, shop["ana"]).sms_status == ContactStatus.ACTIVE
        suppressions.lift(session=session, channel="email", address="ana@example.com")
    assert emailable() == before  # Ana again; the twin never consented


@pytest.mark.both_databases
def test_a_campaign_completes_when_its_last_message_is_settled(shop: dict[str, int]) -> None:
    from core.campaigns import complete_finished_campaigns
    from core.permissions import SYSTEM

    def complete() -> list[int]:
        with session_scope() as session:
            return complete_finished_campaigns(session=session, actor=SYSTEM, now=NOON_CHICAGO)

    assert complete() == []  # its steps are not written out yet
    with sending() as (_, sender):
        assert complete() == []  # written out, waiting to be sent
        send_all(sender)
    assert complete() == [shop["campaign"]]
    with session_scope(read_only=True) as session:
        campaign = session.get(Campaign, shop["campaign"])
        assert campaign.status == CampaignStatus.COMPLETED
        assert campaign.status_note == "Its last message went out."


@pytest.mark.both_databases
def test_messages_still_waiting_at_the_end_are_cancelled(shop: dict[str, int]) -> None:
    from core.campaigns import complete_finished_campaigns
    from core.permissions import SYSTEM

    with session_scope() as session:
        outbox.queue_due_steps(session=session, now=NOON_CHICAGO - timedelta(days=1))
    with session_scope() as session:
        ended = session.get(Campaign, shop["campaign"]).ends_at + timedelta(minutes=1)
        assert complete_finished_campaigns(session=session, actor=SYSTEM, now=ended)
    assert {m.status for m in messages()} == {MessageStatus.CANCELLED}


@pytest.mark.slow
@pytest.mark.both_databases
def test_a_big_step_is_written_out_whole(shop: dict[str, int]) -> None:
    """Thousands of recipients at once stay under each driver's limit of query parameters."""
    with session_scope() as session:
        campaign = session.get(Campaign, shop["campaign"])
        segment_id = campaign.segment_ids[0]
        rows = [
            {
                "first_name": "Many",
                "email": f"many{i}@example.com",
                "birth_date": ADULT,
                "email_opt_in": True,
            }
            for i in range(5000)
        ]
        ids = session.scalars(insert(Customer).returning(Customer.id), rows).all()
        session.execute(
            insert(SegmentMember), [{"segment_id": segment_id, "customer_id": i} for i in ids]
        )
    with session_scope() as session:
        queued = outbox.queue_due_steps(session=session, now=NOON_CHICAGO)
    assert [q.messages for q in queued] == [5004, 2]


@pytest.fixture
def mailbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from tests.fakes import fake_mailbox
    from tests.server import free_port

    port = free_port()  # the environment first, then the server's thread (see fake_mailbox)
    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SMTP_PORT", str(port))
    monkeypatch.setenv("SMTP_SECURITY", "none")
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://shop.example.com")
    reset_engines()
    with fake_mailbox(port) as box:
        yield box
    reset_engines()


def test_email_through_an_smtp_mailbox(shop: dict[str, int], mailbox: Any) -> None:
    mailbox.refuse["bob@example.com"] = "550 5.1.1 No such user"
    send_queued()
    by_to = {m["To"]: m for m in mailbox.received}
    assert sorted(by_to) == ["Dee@Example.com", "ana@example.com", "eve@example.com"]
    ana = by_to["ana@example.com"]
    assert ana["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert ana.get_body(("html",)).get_content().count("1200 W Fulton St") == 1
    assert "Hi Ana" in ana.get_body(("plain",)).get_content()
    found = by_customer(shop)
    assert found["ana", "email"].provider == "smtp"
    assert (found["bob", "email"].status, found["bob", "email"].error_code) == ("failed", "550")
    with session_scope(read_only=True) as session:
        assert session.scalar(select(Suppression.reason)) == "invalid"


def test_email_fails_over_to_the_mailbox_when_mailgun_keeps_failing(
    shop: dict[str, int], providers: tuple[Any, Any], mailbox: Any
) -> None:
    mailgun, _ = providers
    for address in ("ana@example.com", "bob@example.com", "Dee@Example.com", "eve@example.com"):
        mailgun.flaky[address] = 99  # Mailgun answers 503 to everything
    totals = send_queued()
    assert totals["sent"] == 6 and not mailgun.accepted
    assert sorted(m["To"] for m in mailbox.received) == [
        "Dee@Example.com",
        "ana@example.com",
        "bob@example.com",
        "eve@example.com",
    ]
    assert {m.provider for m in messages() if m.channel == "email"} == {"smtp"}


@pytest.mark.both_databases
def test_a_campaign_pauses_itself_above_a_tenth_of_a_percent_of_complaints(
    shop: dict[str, int],
) -> None:
    from core.messaging import webhooks

    send_queued()
    found = by_customer(shop)
    with session_scope() as session:
        session.execute(
            insert(Message),
            [
                {
                    "key": f"earlier-{i}",
                    "campaign_id": shop["campaign"],
                    "channel": "email",
                    "to_address": f"earlier{i}@example.com",
                    "status": "sent",
                    "sent_at": NOON_CHICAGO,
                }
                for i in range(1500)
            ],
        )

    def complain(name: str) -> str:
        message = found[name, "email"]
        data = {
            "event": "complained",
            "id": f"complaint-{name}",
            "user-variables": {"message_key": message.key},
        }
        with session_scope() as session:
            return webhooks.handle_mailgun_event(session=session, event_data=data, now=NOON_CHICAGO)

    complain("ana")  # 1 in 1,504: 0.07%
    with session_scope(read_only=True) as session:
        assert session.get(Campaign, shop["campaign"]).status == CampaignStatus.RUNNING
    complain("bob")  # 2 in 1,504: 0.13%
    with session_scope(read_only=True) as session:
        campaign = session.get(Campaign, shop["campaign"])
        assert campaign.status == CampaignStatus.PAUSED
        assert campaign.status_note.startswith("Paused by itself: 2 spam complaints from 1,504")


@pytest.mark.both_databases
def test_a_worker_dying_after_the_provider_took_its_messages_sends_nothing_twice(
    shop: dict[str, int], providers: tuple[Any, Any]
) -> None:
    from core.messaging.providers import Outgoing
    from core.messaging.routing import provider_for
    from jobs.sending import find_at_provider

    mailgun, twilio = providers
    with session_scope() as session:
        outbox.queue_due_steps(session=session, now=NOON_CHICAGO)
        outbox.claim(session=session, worker="doomed", limit=10, now=NOON_CHICAGO)
    # The doomed worker got Ana's email and text out, then died before recording them.
    for message in (m for m in messages() if m.customer_id == shop["ana"]):
        outgoing = Outgoing(
            message_id=message.id,
            key=message.key,
            channel=message.channel,
            to=message.to_address,
            text="Hi",
            subject="Hi",
            sender="s@x.com",
        )
        assert provider_for(message.channel, get_settings()).send(outgoing).accepted
    lease = timedelta(seconds=get_settings().send_claim_lease_seconds + 1)
    with session_scope() as session:
        # The fake providers stamp what they took with the real clock, so the lease runs on it too.
        session.execute(update(Message).values(claimed_at=utc_now() - lease))
    with session_scope() as session:
        settled = outbox.release_stale_claims(
            session=session, find=find_at_provider(get_settings()), now=utc_now()
        )
    assert settled == 6
    found = by_customer(shop)
    assert found["ana", "email"].status == found["ana", "sms"].status == MessageStatus.SENT
    assert found["ana", "email"].provider_message_id == "1.fake@mg.example.com"
    assert found["bob", "email"].status == MessageStatus.QUEUED

    assert send_queued()["sent"] == 4
    assert sorted(mailgun.recipients("to")) == [
        "Dee@Example.com",
        "ana@example.com",
        "bob@example.com",
        "eve@example.com",
    ]
    assert sorted(twilio.recipients("To")) == ["+13055550105", "+13125550101"]
