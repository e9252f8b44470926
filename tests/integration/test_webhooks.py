"""The providers' webhooks and the unsubscribe link, through the app's HTTP routes (in-process,
the same ROUTES app.py serves; tests/integration/test_health.py reaches them on a running app):
signatures checked, events applied once, STOP/HELP/START answered in TwiML."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select
from starlette.applications import Starlette
from starlette.testclient import TestClient
from twilio.request_validator import RequestValidator

from core.db import reset_engines, session_scope
from core.models import (
    ConsentRecord,
    Customer,
    Event,
    Message,
    MessageStatus,
    Suppression,
)
from tests.fakes import TWILIO_TOKEN
from tests.integration.conftest import by_customer, send_queued
from web.routes import ROUTES

SIGNING_KEY = "mailgun-signing-key"


@pytest.fixture
def served(
    shop: dict[str, int], database: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TestClient]:
    """The app's routes on this test's database, configured for both providers' webhooks."""
    # The signing secrets only: the messages themselves went out through the sandbox.
    env = {
        "MAILGUN_WEBHOOK_SIGNING_KEY": SIGNING_KEY,
        "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
        "STORE_PHONE": "(312) 555-0100",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    reset_engines()
    with TestClient(Starlette(routes=ROUTES)) as client:
        yield client


def sent_messages(shop: dict[str, int]) -> dict[tuple[str, str], Message]:
    send_queued()
    return by_customer(shop)


def mailgun_event(
    message: Message, event: str, event_id: str, key: str = SIGNING_KEY, **extra: Any
) -> dict[str, Any]:
    timestamp, token = str(int(time.time())), f"token-{event_id}"
    signature = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256)
    return {
        "signature": {"timestamp": timestamp, "token": token, "signature": signature.hexdigest()},
        "event-data": {
            "event": event,
            "id": event_id,
            "timestamp": time.time(),
            "recipient": message.to_address,
            "user-variables": {"message_key": message.key},
            **extra,
        },
    }


def twilio_post(
    client: TestClient, path: str, params: dict[str, str], token: str = TWILIO_TOKEN
) -> Any:
    signature = RequestValidator(token).compute_signature(f"{client.base_url}{path}", params)
    return client.post(path, data=params, headers={"X-Twilio-Signature": signature})


@pytest.mark.both_databases
@pytest.mark.parametrize("secret", ["", "   ", "change-me", "your-signing-key"])
def test_blank_or_placeholder_secrets_refuse_every_webhook(
    shop: dict[str, int], served: TestClient, monkeypatch: pytest.MonkeyPatch, secret: str
) -> None:
    """As the example files ship them (`KEY=`) or copied from documentation: a request signed
    with that value would otherwise pass (opt everyone out, or forge consent with START)."""
    ana = sent_messages(shop)["ana", "email"]
    monkeypatch.setenv("MAILGUN_WEBHOOK_SIGNING_KEY", secret)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", secret)
    reset_engines()
    event = mailgun_event(ana, "unsubscribed", "ev-empty", key=secret)
    assert served.post("/webhooks/mailgun", json=event).status_code == 403
    start = {"From": "+13125550101", "To": "+13125550100", "Body": "START"}
    assert twilio_post(served, "/webhooks/twilio/inbound", start, token=secret).status_code == 403
    status = {"MessageSid": "SM1", "MessageStatus": "delivered"}
    assert twilio_post(served, "/webhooks/twilio/status", status, token=secret).status_code == 403
    with session_scope(read_only=True) as session:
        assert session.get(Customer, shop["ana"]).email_opt_in, "nothing changed"
    assert count(Event, Event.dedupe_key.is_not(None)) == 0


def count(model: Any, *where: Any) -> int:
    with session_scope(read_only=True) as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.mark.both_databases
def test_mailgun_events_update_messages_once_and_bad_signatures_change_nothing(
    shop: dict[str, int], served: TestClient
) -> None:
    found = sent_messages(shop)
    ana, bob, dee = found["ana", "email"], found["bob", "email"], found["dee", "email"]
    url = "/webhooks/mailgun"

    forged = mailgun_event(ana, "delivered", "ev-0")
    forged["signature"]["signature"] = "0" * 64
    assert served.post(url, json=forged).status_code == 403
    stale = mailgun_event(ana, "delivered", "ev-00")
    stale["signature"]["timestamp"] = str(int(time.time()) - 3600)  # a replay
    assert served.post(url, json=stale).status_code == 403
    assert served.post(url, content="not json").status_code == 400

    for _ in range(2):  # Mailgun retries: the second delivery changes nothing
        response = served.post(url, json=mailgun_event(ana, "delivered", "ev-1"))
        assert response.status_code == 200
    assert response.json() == {"result": "duplicate"}
    served.post(url, json=mailgun_event(ana, "clicked", "ev-2"))
    no_such_user = {"delivery-status": {"code": 550, "message": "No such user"}}
    bounce = mailgun_event(bob, "failed", "ev-3", severity="permanent", **no_such_user)
    served.post(url, json=bounce)
    served.post(url, json=mailgun_event(dee, "complained", "ev-4"))
    eve, full = found["eve", "email"], {"delivery-status": {"code": 452, "message": "Mailbox full"}}
    for n in range(3):  # soft bounces: the third in a month suppresses the address
        soft = mailgun_event(eve, "failed", f"ev-soft-{n}", severity="temporary", **full)
        served.post(url, json=soft)

    now = by_customer(shop)
    assert now["ana", "email"].status == MessageStatus.DELIVERED
    assert now["ana", "email"].clicked_at is not None and now["ana", "email"].opened_at is not None
    assert now["bob", "email"].status == MessageStatus.BOUNCED
    assert now["bob", "email"].error == "550 No such user"
    with session_scope(read_only=True) as session:
        listed = dict(session.execute(select(Suppression.address, Suppression.reason)).all())
        assert session.get(Customer, shop["dee"]).email_opt_in is False
    assert listed == {
        "bob@example.com": "hard_bounce",
        "dee@example.com": "complaint",
        "eve@example.com": "soft_bounces",
    }
    assert now["eve", "email"].status == MessageStatus.SENT  # a soft bounce may still arrive
    assert count(Event, Event.dedupe_key.is_not(None)) == 7


@pytest.mark.both_databases
def test_twilio_status_callbacks_need_a_valid_signature(
    shop: dict[str, int], served: TestClient
) -> None:
    found = sent_messages(shop)
    ana, eve = found["ana", "sms"], found["eve", "sms"]
    path = "/webhooks/twilio/status"
    delivered = {
        "MessageSid": ana.provider_message_id,
        "MessageStatus": "delivered",
        "To": ana.to_address,
    }
    assert twilio_post(served, path, delivered, token="wrong").status_code == 403
    assert by_customer(shop)["ana", "sms"].status == MessageStatus.SENT
    assert twilio_post(served, path, delivered).status_code == 200
    failed = {
        "MessageSid": eve.provider_message_id,
        "MessageStatus": "undelivered",
        "ErrorCode": "30006",
        "To": eve.to_address,
    }
    assert twilio_post(served, path, failed).status_code == 200
    now = by_customer(shop)
    assert now["ana", "sms"].status == MessageStatus.DELIVERED
    assert now["eve", "sms"].status == MessageStatus.FAILED
    assert now["eve", "sms"].error_code == "30006"
    assert count(Suppression, Suppression.address == eve.to_address) == 1


STOP_TEXTS = (
    "stop",
    " Stop ",
    "STOPALL",
    "revoke",
    "opt out",
    "OPT-OUT",
    "unsubscribe",
    "please stop texting me",
)


@pytest.mark.both_databases
def test_stop_words_opt_out_with_one_confirmation(shop: dict[str, int], served: TestClient) -> None:
    for n, body in enumerate(STOP_TEXTS):
        params = {
            "MessageSid": f"SMstop{n}",
            "From": "+13125550101",
            "To": "+13125550199",
            "Body": body,
        }
        first = twilio_post(served, "/webhooks/twilio/inbound", params)
        assert first.headers["content-type"].startswith("application/xml")
        assert first.text.count("<Message>") == 1 and "unsubscribed" in first.text, body
        again = twilio_post(served, "/webhooks/twilio/inbound", params)  # Twilio retried
        assert "<Message>" not in again.text
        with session_scope(read_only=True) as session:
            ana = session.get(Customer, shop["ana"])
            assert (ana.sms_opt_in, ana.email_opt_in) == (False, True), body
        assert count(Suppression, Suppression.address == "+13125550101") == 1
        start = {**params, "MessageSid": f"SMstart{n}", "Body": "START"}
        assert "resubscribed" in twilio_post(served, "/webhooks/twilio/inbound", start).text


@pytest.mark.both_databases
def test_help_and_start(shop: dict[str, int], served: TestClient) -> None:
    def text(sid: str, body: str) -> str:
        params = {"MessageSid": sid, "From": "+13125550101", "To": "+13125550199", "Body": body}
        return twilio_post(served, "/webhooks/twilio/inbound", params).text

    help_text = text("SM1", "help")
    for part in (
        "Last Call Liquor",
        "(312) 555-0100",
        "msgs a week",
        "Msg &amp; data rates",
        "Reply STOP to cancel",
    ):
        assert part in help_text
    text("SM2", "STOP")
    assert "resubscribed" in text("SM3", "start")
    with session_scope(read_only=True) as session:
        assert session.get(Customer, shop["ana"]).sms_opt_in is True
        records = session.scalars(
            select(ConsentRecord.granted)
            .where(ConsentRecord.customer_id == shop["ana"])
            .order_by(ConsentRecord.id)
        ).all()
    assert records[-2:] == [False, True]
    assert count(Suppression) == 0
    assert "<Message>" not in text("SM4", "what time do you close?")


@pytest.mark.both_databases
def test_one_click_unsubscribe(shop: dict[str, int], served: TestClient) -> None:
    from core.messaging.links import link_key, unsubscribe_token

    ana = sent_messages(shop)["ana", "email"]
    with session_scope(read_only=True) as session:
        token = unsubscribe_token(link_key(), ana.id)
    page = served.get(f"/u/{token}")
    assert page.status_code == 200 and 'method="post"' in page.text
    with session_scope(read_only=True) as session:
        assert session.get(Customer, shop["ana"]).email_opt_in is True  # a GET only asks
    forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    assert served.post(f"/u/{forged}").status_code == 404
    done = served.post(f"/u/{token}", data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and "a***@example.com" in done.text
    with session_scope(read_only=True) as session:
        assert session.get(Customer, shop["ana"]).email_opt_in is False
    assert count(Suppression, Suppression.address == "ana@example.com") == 1


@pytest.mark.both_databases
def test_a_signature_replayed_with_other_event_data_is_refused(
    shop: dict[str, int], served: TestClient
) -> None:
    """Mailgun signs only timestamp + token: lifted from one webhook, a signature must not
    carry another event (here: an unsubscribe of somebody else) in its ten fresh minutes."""
    found = sent_messages(shop)
    genuine = mailgun_event(found["ana", "email"], "delivered", "ev-genuine")
    assert served.post("/webhooks/mailgun", json=genuine).status_code == 200
    replayed = mailgun_event(found["dee", "email"], "unsubscribed", "ev-forged")
    replayed["signature"] = genuine["signature"]
    response = served.post("/webhooks/mailgun", json=replayed)
    assert response.status_code == 403 and response.json() == {"error": "signature already used"}
    retried = served.post("/webhooks/mailgun", json=genuine)  # Mailgun retrying is no replay
    assert retried.status_code == 200 and retried.json() == {"result": "duplicate"}
    with session_scope(read_only=True) as session:
        assert session.get(Customer, shop["dee"]).email_opt_in is True


@pytest.mark.parametrize(
    "body",
    [
        [1, 2],
        {"signature": "x", "event-data": {}},
        {"signature": {}, "event-data": "delivered"},
        {"signature": {}, "event-data": ["delivered"]},
        {"signature": {}},
    ],
)
def test_malformed_mailgun_bodies_are_refused_not_crashed_on(
    shop: dict[str, int], served: TestClient, body: Any
) -> None:
    response = served.post("/webhooks/mailgun", json=body)
    assert response.status_code == 400 and response.json() == {"error": "not a Mailgun webhook"}


def test_bodies_over_the_cap_are_refused_before_they_are_read(
    shop: dict[str, int], served: TestClient
) -> None:
    from web.routes import MAX_BODY_BYTES

    big = b'{"signature": {}, "event-data": {"pad": "' + b"x" * MAX_BODY_BYTES + b'"}}'
    assert served.post("/webhooks/mailgun", content=big).status_code == 413
    form = {"Body": "x" * MAX_BODY_BYTES}
    assert served.post("/webhooks/twilio/inbound", data=form).status_code == 413
    assert served.post("/u/some-token", content=b"x" * (MAX_BODY_BYTES + 1)).status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        for _ in range(MAX_BODY_BYTES // 1024 + 2):
            yield b"x" * 1024

    assert served.post("/webhooks/mailgun", content=chunks()).status_code == 413


def test_every_route_sends_security_headers(shop: dict[str, int], served: TestClient) -> None:
    for response in (
        served.get("/healthz"),
        served.get("/u/some-token"),
        served.post("/webhooks/mailgun", json={}),
        served.get("/auth/cookie"),
    ):
        headers = response.headers
        assert "frame-ancestors 'none'" in headers["content-security-policy"], response.url
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["x-frame-options"] == "DENY"
        assert "strict-transport-security" not in headers  # plain http: HSTS would be a lie
    behind_tls = served.get("/healthz", headers={"X-Forwarded-Proto": "https"})
    assert behind_tls.headers["strict-transport-security"] == "max-age=31536000"


@pytest.mark.both_databases
@pytest.mark.parametrize("held_in", ["file", "redis"])
def test_an_unsubscribe_while_the_database_is_down_is_held_then_applied(
    shop: dict[str, int],
    served: TestClient,
    database: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Any,
    request: pytest.FixtureRequest,
    held_in: str,
) -> None:
    from core.messaging.links import link_key, unsubscribe_token
    from jobs import held_optouts

    ana = sent_messages(shop)["ana", "email"]
    token = unsubscribe_token(link_key(), ana.id)
    working_url = database
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    if held_in == "redis":
        monkeypatch.setenv("REDIS_URL", request.getfixturevalue("redis_url"))
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://lastcall@127.0.0.1:9/down")
    reset_engines()
    forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    assert served.post(f"/u/{forged}").status_code == 404  # checked without the database
    response = served.post(f"/u/{token}")
    assert response.status_code == 202 and "We have your request" in response.text
    assert (tmp_path / held_optouts.FILE_NAME).exists() is (held_in == "file")

    monkeypatch.setenv("DATABASE_URL", working_url)
    reset_engines()
    with session_scope(read_only=True) as session:
        assert session.get(Customer, shop["ana"]).email_opt_in is True
    assert held_optouts.apply_held() == 1
    assert held_optouts.apply_held() == 0, "applied once"
    with session_scope(read_only=True) as session:
        assert session.get(Customer, shop["ana"]).email_opt_in is False
    assert count(Suppression, Suppression.address == "ana@example.com") == 1
