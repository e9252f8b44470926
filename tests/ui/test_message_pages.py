"""The Sends and Templates pages through the frame, on a small shop whose campaign has sent."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, update

from core.customers.records import create_customer
from core.db import session_scope
from core.infra import job_rows
from core.models import Message, MessageStatus, Template
from core.permissions import SYSTEM, Role
from jobs import queue
from tests.integration.conftest import build_shop, providers, send_queued  # noqa: F401 - a fixture
from tests.ui.conftest import TEST_MODE_ICON, frame, make_user, page_warnings, sign_in, texts


@pytest.fixture
def sent() -> dict[str, int]:
    shop = build_shop()
    send_queued()
    with session_scope() as session:
        session.execute(
            update(Message)
            .where(Message.customer_id == shop["bob"])
            .values(
                status=MessageStatus.FAILED,
                error="503 Service Unavailable",
                error_code="503",
                sent_at=None,
            )
        )
    return shop


def open_page(path: str, role: Role):
    at = sign_in(frame(), make_user(role))
    return at.switch_page(path).run()


def metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_sends_show_status_and_failed_ones_can_be_retried(sent: dict[str, int]) -> None:
    at = open_page("pages/messages.py", Role.MARKETER)
    assert not at.exception
    assert (metric(at, "Sent"), metric(at, "Failed"), metric(at, "Waiting")) == ("5", "1", "0")
    assert "6 of 6 settled" in at.get("progress")[0].proto.text
    table = at.dataframe[0].value
    assert len(table) == 6 and "503 Service Unavailable" in set(table["Problem"])

    next(b for b in at.button if b.label == "Retry all 1 failed").click().run()
    with session_scope(read_only=True) as session:
        bob = session.scalars(select(Message).where(Message.customer_id == sent["bob"])).one()
    assert bob.status in (MessageStatus.QUEUED, MessageStatus.SENDING, MessageStatus.SENT)
    assert "1 failed messages queued again." in texts(at)
    with session_scope(read_only=True) as session:  # no job left writing after the test
        sending = job_rows.recent_jobs(session=session, kind="messages.send", limit=1)
    queue.wait_for(sending[0].id, timeout=60)


def templates_count() -> int:
    with session_scope(read_only=True) as session:
        return session.scalar(select(func.count()).select_from(Template))


@pytest.mark.slow
def test_templates_start_from_defaults_and_new_ones_are_checked() -> None:
    at = open_page("pages/templates.py", Role.MARKETER)
    next(b for b in at.button if b.label == "Add the default templates").click().run()
    assert templates_count() == 9 and "9 templates added." in texts(at)
    assert "Hi Dana" in previewed_email(at)  # the first default, previewed

    at.selectbox[0].set_value(0).run()  # a new template
    fields = {t.label: t for t in at.text_input}
    fields["Name"].input("Friday tasting")
    fields["Subject"].input("Taste with us, {{ first_name }}")
    next(a for a in at.text_area if a.label == "HTML").input("<p>Friday at 6.</p>")
    at.run()
    assert any(
        "must show your postal address and an unsubscribe link" in w.value for w in at.warning
    )
    assert next(b for b in at.button if b.label == "Save template").disabled

    html = "<p>Friday at 6, {{ first_name }}.</p><p>{{ store.address }} {{ unsubscribe_url }}</p>"
    next(a for a in at.text_area if a.label == "HTML").input(html)
    at.run()
    assert not page_warnings(at)
    next(s for s in at.selectbox if s.label == "For campaigns of type").set_value("event").run()
    next(b for b in at.button if b.label == "Save template").click().run()
    assert templates_count() == 10 and "Template saved." in texts(at)
    with session_scope(read_only=True) as session:
        saved = session.scalars(select(Template).where(Template.name == "Friday tasting")).one()
    assert saved.campaign_type == "event", "a custom template carries its campaign type"


def previewed_email(at) -> str:
    """The document the preview iframe loads (a data: URL under a no-script policy)."""
    src = at.get("iframe")[0].proto.src
    prefix = "data:text/html;base64,"
    assert src.startswith(prefix)
    document = base64.b64decode(src.removeprefix(prefix)).decode()
    assert "default-src 'none'" in document and "form-action 'none'" in document
    return document


def test_a_preview_shows_hostile_fields_as_text_inside_a_sandbox() -> None:
    with session_scope() as session:
        customer = create_customer(
            session=session,
            actor=SYSTEM,
            now=datetime(2026, 3, 2, tzinfo=UTC),
            email="mallory@example.com",
            first_name="<img src=x onerror=alert(1)>",
            city="javascript:alert(document.cookie)",
        )
        customer_id = customer.id
    at = open_page("pages/templates.py", Role.MARKETER)
    fields = {t.label: t for t in at.text_input}
    fields["Name"].input("Hostile")
    fields["Subject"].input("**Win** [here](https://evil.example) {{ customer.first_name }}")
    next(a for a in at.text_area if a.label == "HTML").input(
        "<p><a href='{{ customer.city }}'>{{ customer.first_name }}</a></p>"
        "<p>{{ store.address }} {{ unsubscribe_url }}</p>"
    )
    next(n for n in at.number_input if n.label.startswith("As customer")).set_value(customer_id)
    at.run()
    assert not at.exception and not page_warnings(at)
    document = previewed_email(at)
    assert "&lt;img src=x onerror=alert(1)&gt;</a>" in document
    assert "javascript" not in document and "<img" not in document
    heading = at.get("html")[0].proto.body
    assert "**Win** [here](https://evil.example) &lt;img" in heading


def test_words_an_alcohol_ad_may_not_say_block_the_save_and_doubtful_ones_warn() -> None:
    at = open_page("pages/templates.py", Role.MARKETER)
    at.selectbox[0].set_value(0).run()  # a new template
    next(r for r in at.radio if r.label == "Channel").set_value("sms").run()
    next(t for t in at.text_input if t.label == "Name").input("Friday")
    message = next(a for a in at.text_area if a.label == "Message")
    message.input("{{ store.name }}: free shots for college nights! Reply STOP to opt out.").run()
    assert any('"free shots" encourages drinking to excess' in w.value for w in at.warning)
    assert next(b for b in at.button if b.label == "Save template").disabled

    message = next(a for a in at.text_area if a.label == "Message")
    message.input("{{ store.name }}: kids asleep? A Friday red. Reply STOP to opt out.").run()
    assert not page_warnings(at)
    assert any('"kids" may read as aimed at young people' in i.value for i in at.info)
    assert not next(b for b in at.button if b.label == "Save template").disabled


def test_a_text_template_shows_its_length_and_cost() -> None:
    at = open_page("pages/templates.py", Role.MARKETER)
    next(b for b in at.button if b.label == "Add the default templates").click().run()
    with session_scope(read_only=True) as session:
        text_id = session.scalar(select(Template.id).where(Template.channel == "sms"))
    at.selectbox[0].set_value(text_id).run()
    caption = next(c.value for c in at.caption if "segment" in c.value)
    assert "GSM-7 · 1 segment of 160" in caption and "$0.011 a text" in caption


def test_a_campaign_shows_how_its_messages_fared(sent: dict[str, int]) -> None:
    at = sign_in(frame(), make_user(Role.VIEWER))
    at.query_params["id"] = str(sent["campaign"])
    at = at.switch_page("pages/campaign.py").run()
    assert not at.exception
    assert metric(at, "Targeted") == "6" and metric(at, "Sent (test mode)") == "5"
    assert metric(at, "Failed") == "1"
    # The sandbox delivers nothing: no delivery rate is shown as if measured.
    delivered = next(m for m in at.metric if m.label == "Delivered")
    assert (delivered.value, delivered.proto.delta) == ("—", "not measured in test mode")
    assert "5 of the messages sent went to the sandbox" in texts(at)
    # Nothing reached a customer: no revenue is shown as if it had been measured.
    assert "measured once its messages really go out: in test mode" in texts(at)
    assert not [m for m in at.metric if m.label.startswith("Revenue")]


def test_the_control_group_is_listed_but_not_waited_for(sent: dict[str, int]) -> None:
    with session_scope() as session:
        session.execute(
            update(Message)
            .where(Message.customer_id == sent["ana"])
            .values(status=MessageStatus.HELD_OUT, sent_at=None, provider=None)
        )
    at = open_page("pages/messages.py", Role.VIEWER)
    table = at.dataframe[0].value
    assert "Held out (control group)" in set(table["Status"])
    assert "4 of 4 settled" in at.get("progress")[0].proto.text


def test_test_mode_is_said_on_every_page_and_on_each_send(sent: dict[str, int]) -> None:
    email = make_user(Role.MARKETER)
    for path in ("pages/home.py", "pages/campaigns.py", "pages/messages.py"):
        at = sign_in(frame(), email).switch_page(path).run()
        banner = [w.value for w in at.warning if w.icon == TEST_MODE_ICON]
        assert len(banner) == 1 and "email is not really sent" in banner[0], path
        assert "texts are not really sent" in banner[0]
    table = at.dataframe[0].value
    assert set(table["Status"]) == {"Sent (test mode)", "Failed (test mode)"}
    assert "the sandbox (test mode: nothing leaves this app)" in set(table["Provider"])


@pytest.mark.usefixtures("providers")
def test_no_banner_once_both_channels_have_providers(sent: dict[str, int]) -> None:
    at = open_page("pages/campaigns.py", Role.MARKETER)
    assert not [w for w in at.warning if w.icon == TEST_MODE_ICON]
    assert metric(at, "Sent") == "5"  # through the (fake) Mailgun and Twilio: no test mode


def test_the_store_page_shows_each_channel_and_sends_a_test(sent: dict[str, int]) -> None:
    at = open_page("pages/store.py", Role.ADMIN)
    assert texts(at).count("Test mode") >= 2
    next(b for b in at.button if b.label == "Send me a test").click().run()
    assert "Test queued through the sandbox" in texts(at)
    with session_scope(read_only=True) as session:
        test = session.scalars(select(Message).where(Message.key.like("test:%"))).one()
        sending = job_rows.recent_jobs(session=session, kind="messages.send", limit=1)
    assert queue.wait_for(sending[0].id, timeout=60).status == "succeeded"
    assert test.channel == "email" and test.to_address.startswith("admin")
