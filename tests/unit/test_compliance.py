"""The texting hours and discount limits of ../shared/COMPLIANCE.md, one rule per test."""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError as PydanticError

from core.compliance import (
    Policy,
    Verdict,
    Window,
    area_code,
    banned_offer,
    decide,
    max_discount_percent,
    next_allowed_send,
    sms_window,
    states_of,
    strictest_sms_window,
)
from core.models import Customer

NEW_YORK = ZoneInfo("America/New_York")
POLICY = Policy()


def local(zone: ZoneInfo, *args: int) -> datetime:
    return datetime(*args, tzinfo=zone)


def test_a_text_to_new_york_at_21_05_waits_for_8_am() -> None:
    sent = next_allowed_send(
        local(NEW_YORK, 2026, 11, 24, 21, 5).astimezone(UTC),
        zone=NEW_YORK,
        states=states_of("NY", "+12125550101"),
        policy=POLICY,
    )
    assert sent == local(NEW_YORK, 2026, 11, 25, 8, 0)
    assert sent.tzinfo == UTC


def test_a_florida_area_code_brings_florida_hours_even_with_a_new_york_address() -> None:
    states = states_of("NY", "+13055550101")
    assert states == {"NY", "FL"}
    sent = next_allowed_send(
        local(NEW_YORK, 2026, 11, 24, 20, 30), zone=NEW_YORK, states=states, policy=POLICY
    )
    assert sent == local(NEW_YORK, 2026, 11, 25, 8, 0)
    # The same time is fine for a New York number.
    ok = local(NEW_YORK, 2026, 11, 24, 20, 30)
    assert next_allowed_send(ok, zone=NEW_YORK, states={"NY"}, policy=POLICY) == ok


def test_too_early_moves_to_the_start_of_the_same_day() -> None:
    early = local(NEW_YORK, 2026, 11, 24, 6, 45)
    assert next_allowed_send(early, zone=NEW_YORK, states={"CT"}, policy=POLICY) == local(
        NEW_YORK, 2026, 11, 24, 9, 0
    )


def test_no_sunday_texts_in_alabama() -> None:
    chicago = ZoneInfo("America/Chicago")
    sunday_noon = local(chicago, 2026, 11, 29, 12, 0)
    assert next_allowed_send(sunday_noon, zone=chicago, states={"AL"}, policy=POLICY) == local(
        chicago, 2026, 11, 30, 8, 0
    )


def test_deferral_is_safe_across_the_clock_change() -> None:
    # The night DST ends in New York: 21:30 on Saturday waits for 08:00 Sunday, local time.
    saturday = local(NEW_YORK, 2026, 10, 31, 21, 30)
    sent = next_allowed_send(saturday, zone=NEW_YORK, states={"NY"}, policy=POLICY)
    assert sent.astimezone(NEW_YORK).replace(tzinfo=None) == datetime(2026, 11, 1, 8, 0)
    assert sent.utcoffset().total_seconds() == -5 * 3600


@pytest.mark.parametrize(
    ("states", "window"),
    [
        (set(), (8, 21)),
        ({"NY"}, (8, 21)),
        ({"FL"}, (8, 20)),
        ({"WA", "OK"}, (8, 20)),
        ({"CT"}, (9, 21)),
        ({"CT", "FL"}, (9, 20)),
    ],
)
def test_the_window_is_the_intersection_of_every_matching_state(states, window) -> None:
    assert sms_window(POLICY, states) == Window(start=time(window[0]), end=time(window[1]))


def test_the_strictest_window_is_allowed_everywhere() -> None:
    assert strictest_sms_window(POLICY) == Window(start=time(9), end=time(20))


def test_area_codes() -> None:
    assert area_code("+13055550101") == "305"
    assert area_code("+447700900123") is None and area_code(None) is None
    assert states_of("", "+14055550101") == {"OK"}
    assert states_of("IL", "+13125550101") == {"IL"}


def test_discount_is_the_lowest_of_store_state_and_campaign_limits() -> None:
    assert max_discount_percent(POLICY, "IL", None) == 30
    assert max_discount_percent(POLICY, "IL", 20) == 20
    generous = Policy(max_discount_percent=50)
    assert max_discount_percent(generous, "NC", None) == 35  # North Carolina's cap
    assert max_discount_percent(generous, "NC", 40) == 35


# --- one message, now (the sender asks before every send) -----------------------------------


def person(**fields: object) -> Customer:
    base = {
        "email": "a@example.com",
        "phone": "+12125550101",
        "state": "NY",
        "birth_date": date(1980, 1, 1),
        "email_opt_in": True,
        "sms_opt_in": True,
        "sms_opt_in_at": datetime(2026, 1, 1, tzinfo=UTC),
        "email_status": "active",
        "sms_status": "active",
    }
    return Customer(**{**base, **fields})


NOON_NY = local(NEW_YORK, 2026, 11, 24, 12, 0)


@pytest.mark.parametrize(
    ("fields", "channel", "suppressed", "reason"),
    [
        ({}, "email", "complaint", "the address is suppressed (complaint)"),
        ({"birth_date": None}, "sms", None, "no date of birth on file: not verified 21+"),
        ({"birth_date": date(2005, 11, 25)}, "email", None, "under 21"),
        ({"deleted_at": NOON_NY}, "email", None, "the customer was deleted"),
        ({"email_opt_in": False}, "email", None, "no email consent"),
        ({"email_status": "bounced"}, "email", None, "no email consent"),
        ({"sms_opt_in": False}, "sms", None, "no text-message consent"),
        ({"phone": "+14165550101"}, "sms", None, "a Canadian number: no alcohol texts to Canada"),
        ({"phone": "+442071234567"}, "sms", None, "no US mobile number"),
        (
            {"state": "WA", "sms_opt_in_at": None},
            "sms",
            None,
            "Washington: no recorded advance consent",
        ),
    ],
)
def test_a_message_is_blocked_with_its_reason(
    fields: dict, channel: str, suppressed: str | None, reason: str
) -> None:
    decision = decide(
        customer=person(**fields),
        channel=channel,
        now=NOON_NY,
        policy=POLICY,
        zone=NEW_YORK,
        suppressed=suppressed,
    )
    assert (decision.verdict, decision.reason) == (Verdict.BLOCK, reason)


def test_21_today_may_be_messaged() -> None:
    decision = decide(
        customer=person(birth_date=date(2005, 11, 24)),
        channel="email",
        now=NOON_NY,
        policy=POLICY,
        zone=NEW_YORK,
    )
    assert decision.verdict == Verdict.SEND


def test_a_late_text_is_deferred_never_dropped_and_email_is_not() -> None:
    late = local(NEW_YORK, 2026, 11, 24, 21, 5)
    text = decide(customer=person(), channel="sms", now=late, policy=POLICY, zone=NEW_YORK)
    assert text.verdict == Verdict.DEFER
    assert text.send_at == local(NEW_YORK, 2026, 11, 25, 8, 0)
    assert text.reason == "quiet hours: moved to Wed 08:00 their time"
    email = decide(customer=person(), channel="email", now=late, policy=POLICY, zone=NEW_YORK)
    assert email.verdict == Verdict.SEND


def test_where_the_address_and_the_number_disagree_the_stricter_hours_win() -> None:
    """A Californian with a New York number: 19:30 in Los Angeles is 22:30 in New York, so the
    text waits for 08:00 in Los Angeles (11:00 in New York), when both allow it."""
    los_angeles = ZoneInfo("America/Los_Angeles")
    evening = local(los_angeles, 2026, 11, 24, 19, 30)
    californian = person(state="CA", phone="+12125550123")
    alone = decide(
        customer=californian, channel="sms", now=evening, policy=POLICY, zone=los_angeles
    )
    assert alone.verdict == Verdict.SEND
    both = decide(
        customer=californian,
        channel="sms",
        now=evening,
        policy=POLICY,
        zone=los_angeles,
        phone_zone=NEW_YORK,
    )
    assert both.send_at == local(los_angeles, 2026, 11, 25, 8, 0)
    assert both.reason == (
        "quiet hours: moved to Wed 08:00 their time (11:00 where their number is from)"
    )


def test_a_policy_names_only_known_offer_kinds_and_windows_that_open() -> None:
    with pytest.raises(PydanticError, match="unknown offer kinds bundel"):
        Policy(state_offer_bans={"IA": ("bundel",)})
    with pytest.raises(PydanticError, match="must start before it ends"):
        Window(start=time(21), end=time(8))
    policy = Policy()
    assert banned_offer(policy, "IA", "bundle") == (
        "IA's promotion rules forbid bundle (buy some, get one free) offers"
    )
    assert banned_offer(policy, "IL", "bundle") is None
    assert banned_offer(policy, "CT", "percent_off") and not banned_offer(policy, "CT", "gift")
