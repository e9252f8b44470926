"""Messages in a real browser: a customer unsubscribes from an email's link, and the marketer
watches the sends."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import (
    appears,
    new_store,
    screenshot,
    screenshot_folder,
    signed_in,
    tab_opened,
)
from tests.server import running_app

pytestmark = pytest.mark.e2e


def sent_shop(path: Path) -> tuple[str, str]:
    """A SQLite shop whose campaign went out through the sandbox; its URL and the unsubscribe
    token of Ana's email."""
    from sqlalchemy import select

    from core.db import session_scope
    from core.messaging.links import link_key, unsubscribe_token
    from core.models import Message
    from tests.integration.conftest import build_shop, send_queued

    with new_store(path) as url:
        shop = build_shop()
        send_queued()
        with session_scope(read_only=True) as session:
            message_id = session.scalar(
                select(Message.id).where(
                    Message.customer_id == shop["ana"], Message.channel == "email"
                )
            )
            token = unsubscribe_token(link_key(), message_id)
    return url, token


def test_unsubscribe_from_a_link_then_see_it_on_the_sends_page(
    browser: Any, tmp_path: Path
) -> None:
    url, token = sent_shop(tmp_path / "sends.db")
    with running_app({"DATABASE_URL": url}) as base:
        customer = browser.new_page(viewport={"width": 390, "height": 844})  # on a phone
        customer.goto(f"{base}/u/{token}")
        customer.get_by_role("button", name="Unsubscribe").click()
        customer.get_by_text("You are unsubscribed").wait_for(timeout=10_000)
        assert "a***@example.com will get no more marketing email" in customer.content()
        customer.screenshot(path=str(screenshot_folder(tmp_path) / "unsubscribed.png"))
        customer.close()

        page = signed_in(browser, base)
        page.goto(f"{base}/messages")
        appears(page.get_by_text("6 of 6 settled"))
        screenshot(page, tmp_path, "sends.png")
        page.get_by_role("link", name="Compliance").first.click()
        appears(page.get_by_text("Alcohol marketing law, enforced"))
        tab_opened(page, "Suppressions", page.get_by_text("1 suppressed", exact=True))
        screenshot(page, tmp_path, "suppressions.png")
        page.close()
