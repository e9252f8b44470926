"""The Compliance page through the frame, on a small shop whose campaign has sent: the policy
(edited by admins only), a campaign's pre-flight, the consent log and the suppression list."""

from __future__ import annotations

from datetime import time

import pytest
from sqlalchemy import select

from core import compliance, customers
from core.campaigns.preflight import preflight
from core.db import session_scope
from core.models import Campaign, Channel, Suppression
from core.permissions import SYSTEM, Role
from tests.integration.conftest import build_shop, providers  # noqa: F401 - a fixture
from tests.moments import NOW, TODAY
from tests.ui.conftest import frame, make_user, sign_in, texts


@pytest.fixture
def shop() -> dict[str, int]:
    return build_shop()


def open_page(role: Role):
    at = sign_in(frame(), make_user(role))
    return at.switch_page("pages/compliance.py").run()


def button(at, label: str):
    return next(b for b in at.button if b.label == label)


def test_viewers_read_everything_and_change_nothing(shop: dict[str, int]) -> None:
    at = open_page(Role.VIEWER)
    assert not at.exception
    assert [t.label for t in at.tabs] == ["Pre-flight", "Policy", "Consent log", "Suppressions"]
    assert "Texts arrive** 08:00–21:00" in texts(at)
    assert not at.get("download_button"), "personal data is not theirs to download"
    assert not any(b.label in ("Save policy", "Suppress", "Lift it") for b in at.button)


def test_a_campaigns_preflight_is_shown_as_core_counts_it(shop: dict[str, int]) -> None:
    at = open_page(Role.MARKETER)
    at.selectbox[0].set_value(shop["campaign"]).run()
    assert not at.exception
    with session_scope(read_only=True) as session:
        campaign = session.get_one(Campaign, shop["campaign"])
        report = preflight(session=session, campaign=campaign, today=TODAY)
    assert f"**Pre-flight:** {report.sentence()}." in texts(at)


def test_an_admin_tightens_the_policy_and_a_bad_window_is_refused(shop: dict[str, int]) -> None:
    at = open_page(Role.ADMIN)
    next(n for n in at.number_input if n.label == "Texts a week").set_value(2)
    next(t for t in at.time_input if t.label == "Texts from").set_value(time(9))
    button(at, "Save policy").click().run()
    assert not at.exception and "Policy saved." in texts(at)
    with session_scope(read_only=True) as session:
        policy = compliance.get_policy(session=session)
    assert (policy.sms_cap_per_week, policy.frequency_cap_per_week) == (2, 3)
    assert policy.federal_sms_window.start == time(9)
    untouched = compliance.Policy()  # the states' table went through the form unchanged
    assert policy.state_sms_windows == untouched.state_sms_windows
    assert policy.no_sunday_sms_states == ("AL", "RI")
    assert policy.state_discount_caps == {"NC": 35}
    assert policy.state_offer_bans == untouched.state_offer_bans

    next(t for t in at.time_input if t.label == "Texts until").set_value(time(8))
    button(at, "Save policy").click().run()
    assert any("must start before it ends" in e.value for e in at.error)
    with session_scope(read_only=True) as session:
        assert compliance.get_policy(session=session).federal_sms_window.end == time(21)


def test_the_consent_log_is_searched_and_suppressions_added_by_hand(shop: dict[str, int]) -> None:
    with session_scope() as session:
        for name in ("ana", "bob"):
            customers.change_consent(
                session=session,
                actor=SYSTEM,
                customer_id=shop[name],
                channel=Channel.EMAIL,
                granted=False,
                now=NOW,
            )
    at = open_page(Role.MARKETER)
    next(t for t in at.text_input if t.label == "Find in the log").input("ana@").run()
    log = next(d.value for d in at.dataframe if "Decision" in d.value.columns)
    assert list(log["Address"]) == ["ana@example.com"] and list(log["Decision"]) == ["opt-out"]
    assert [b.label for b in at.get("download_button")] == ["Download the consent report (CSV)"]

    typed = next(t for t in at.text_input if t.label == "Email address or phone number")
    typed.input("Zed@Example.com")
    button(at, "Suppress").click().run()
    with session_scope(read_only=True) as session:
        assert session.scalars(select(Suppression.address)).all() == ["zed@example.com"]
    assert "1 suppressed" in texts(at) and len(at.get("download_button")) == 2
