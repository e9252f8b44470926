"""No send path bypasses the compliance engine: only the sender hands a customer's message to a
provider, right after deciding on it, and it decides on whatever the outbox holds, however the
row got there."""

from __future__ import annotations

import ast
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert

from core.db import session_scope
from core.messaging import outbox, webhooks
from core.models import Message, MessageStatus
from tests.integration.conftest import NOON_CHICAGO, messages, send_queued

ROOT = Path(__file__).resolve().parents[2]

PROVIDER_CALLERS = {
    "core/messaging/sender.py": "customers' messages, each decided on right before (_prepare)",
    "core/messaging/routing.py": "the failover wrapper the sender calls, passing on",
    "core/analytics/weekly.py": "the weekly report to the store's own staff, never a customer",
}


def test_only_the_sender_hands_a_customers_message_to_a_provider() -> None:
    """Every call of a `send` method in the code that runs (core, jobs, the routes), or a
    `send` method handed to another call (a thread pool's map), is one of the known callers."""
    callers = set()
    for folder in ("core", "jobs", "web"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(), filename=str(path))
            calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)]
            if any(
                isinstance(each, ast.Attribute) and each.attr == "send"
                for call in calls
                for each in (call.func, *call.args)
            ):
                callers.add(str(path.relative_to(ROOT)))
    assert callers == set(PROVIDER_CALLERS)


@pytest.mark.both_databases
def test_a_message_written_straight_into_the_outbox_is_still_decided_on(
    shop: dict[str, int],
) -> None:
    """Rows no writer would make (an under-21, a customer with no birth date, a number that
    texted STOP) put into the outbox by hand: the sender stops each with its rule."""
    with session_scope() as session:
        webhooks.handle_inbound_sms(
            session=session, params={"From": "+13055550105", "Body": "stop"}, now=NOON_CHICAGO
        )
        template = outbox.default_template(session=session, campaign_type="holiday", channel="sms")
        assert template is not None
        session.execute(
            insert(Message),
            [
                {
                    "key": f"by-hand:{name}",
                    "campaign_id": shop["campaign"],
                    "customer_id": shop[name],
                    "template_id": template.id,
                    "channel": "sms",
                    "status": MessageStatus.QUEUED,
                    "send_after": NOON_CHICAGO - timedelta(minutes=1),
                }
                for name in ("cy", "fay", "eve")
            ],
        )
    send_queued()
    stopped = {m.key: (m.status, m.error) for m in messages() if m.key.startswith("by-hand:")}
    assert stopped == {
        "by-hand:cy": (MessageStatus.SUPPRESSED, "under 21"),
        "by-hand:fay": (MessageStatus.SUPPRESSED, "no date of birth on file: not verified 21+"),
        "by-hand:eve": (MessageStatus.SUPPRESSED, "the address is suppressed (stop)"),
    }
