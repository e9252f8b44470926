"""The store's compliance policy: legal sending hours per state, frequency caps, discount limits,
and the state a phone number's area code belongs to."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field, field_validator, model_validator
from sqlalchemy.orm import Session

from core.infra.setting_rows import read_setting, save_setting
from core.permissions import Actor

POLICY_KEY = "compliance_policy"

_AREA_CODES_BY_STATE = {
    "FL": "239 305 321 324 352 386 407 448 561 645 656 689 727 728 754 772 786 813 850 863 904 "
    "941 954",
    "OK": "405 539 572 580 918",
    "MD": "227 240 301 410 443 667",
    "WA": "206 253 360 425 509 564",
    "CT": "203 475 860 959",
    "NV": "702 725 775",
    "AL": "205 251 256 334 483 659 938",
    "RI": "401",
}
AREA_CODE_STATES = {
    code: state for state, codes in _AREA_CODES_BY_STATE.items() for code in codes.split()
}
"""Area codes of the states whose texting rules differ from the federal ones: FL and OK presume
residency from the area code, so every rule here applies by address or by area code."""

_CANADIAN = (
    "204 226 236 249 250 257 263 289 306 343 354 365 367 368 382 387 403 416 418 428 431 437 "
    "438 450 460 468 474 506 514 519 548 579 581 584 587 600 604 613 622 639 647 672 683 705 "
    "709 742 753 778 780 782 807 819 825 867 873 879 902 905 942"
)
CANADIAN_AREA_CODES = frozenset(_CANADIAN.split())
"""+1 numbers that are Canadian: no alcohol texts go there."""

STATE_SMS_HOURS = {
    "FL": (8, 20),
    "OK": (8, 20),
    "MD": (8, 20),
    "WA": (8, 20),
    "NV": (8, 20),
    "CT": (9, 21),
}
"""Shipped defaults; CT and NV are less certain and kept editable."""


OFFER_WORDS = {
    "percent_off": "percent-off",
    "amount_off": "dollars-off",
    "bundle": "bundle (buy some, get one free)",
    "gift": "free gift",
    "early_access": "early access",
}
"""Offer kinds a state's promotion rules may forbid, in words."""


class Window(BaseModel):
    """Hours a text may arrive, [start, end) in the recipient's local time."""

    start: time
    end: time

    @model_validator(mode="after")
    def _starts_before_it_ends(self) -> Window:
        if self.start >= self.end:
            raise ValueError(
                f"a window must start before it ends (got {self.start:%H:%M}–{self.end:%H:%M})"
            )
        return self

    def narrowed(self, other: Window) -> Window:
        """The hours inside both (possibly none: an empty window allows no minute)."""
        return Window.model_construct(
            start=max(self.start, other.start), end=min(self.end, other.end)
        )

    def __contains__(self, moment: time) -> bool:
        return self.start <= moment < self.end


class Policy(BaseModel):
    federal_sms_window: Window = Window(start=time(8), end=time(21))
    state_sms_windows: dict[str, Window] = Field(
        default_factory=lambda: {
            state: Window(start=time(start), end=time(end))
            for state, (start, end) in STATE_SMS_HOURS.items()
        }
    )
    no_sunday_sms_states: tuple[str, ...] = ("AL", "RI")
    frequency_cap_per_week: int = Field(default=3, ge=1, le=21)
    """Marketing messages per customer per rolling 7 days, all channels together."""
    email_cap_per_week: int = Field(default=3, ge=1, le=21)
    sms_cap_per_week: int = Field(default=3, ge=1, le=21)
    """Texts per customer per rolling 7 days (the number the HELP reply promises)."""
    same_subject_sms_cap: int = Field(default=3, ge=1, le=10)
    """Texts on the same subject (one campaign) per customer per rolling 24 hours, where a state
    caps them (Florida's FTSA, Oklahoma's OTSA, Maryland's 2024 law)."""
    same_subject_sms_states: tuple[str, ...] = ("FL", "OK", "MD")
    sms_join_keywords: tuple[str, ...] = ("JOIN",)
    """Words a number texts to sign up (then date of birth, then Y: double opt-in)."""
    email_hours: Window = Window(start=time(7), end=time(21))
    """Not law: the hours an email is planned for, so it lands near the top of the inbox."""
    max_discount_percent: int = Field(default=30, ge=0, le=100)
    state_discount_caps: dict[str, int] = Field(default_factory=lambda: {"NC": 35})
    state_offer_bans: dict[str, tuple[str, ...]] = Field(
        default_factory=lambda: {"IA": ("bundle",), "CT": ("percent_off", "amount_off")}
    )
    """Offer kinds a store in the state may not advertise: Iowa forbids "buy 2 get 1 free"
    style bundles; Connecticut forbids sales and ads below the minimum retail price, which a
    price cut cannot be shown to respect without the bottle's cost."""

    @field_validator("state_offer_bans")
    @classmethod
    def _known_offer_kinds(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        unknown = sorted({kind for kinds in value.values() for kind in kinds} - set(OFFER_WORDS))
        if unknown:
            raise ValueError(
                f"unknown offer kinds {', '.join(unknown)} (use {', '.join(OFFER_WORDS)})"
            )
        return value

    def cap_for(self, channel: str) -> int:
        """The most messages of `channel` a customer may get in 7 days."""
        own = self.sms_cap_per_week if channel == "sms" else self.email_cap_per_week
        return min(own, self.frequency_cap_per_week)


def get_policy(*, session: Session) -> Policy:
    return read_setting(session, POLICY_KEY, Policy)


def save_policy(*, session: Session, actor: Actor, policy: Policy) -> None:
    save_setting(session=session, actor=actor, key=POLICY_KEY, value=policy)


# --- when ----------------------------------------------------------------------------------


def area_code(phone: str | None) -> str | None:
    """The area code of a +1 number."""
    return phone[2:5] if phone and phone.startswith("+1") and len(phone) == 12 else None


def states_of(state: str | None, phone: str | None) -> set[str]:
    """The states whose rules apply: the address's and the phone's area code's."""
    found = {state} if state else set()
    if (code := area_code(phone)) and code in AREA_CODE_STATES:
        found.add(AREA_CODE_STATES[code])
    return found


def sms_window(policy: Policy, states: Iterable[str]) -> Window:
    window = policy.federal_sms_window
    for state in states:
        if state in policy.state_sms_windows:
            window = window.narrowed(policy.state_sms_windows[state])
    return window


def strictest_sms_window(policy: Policy) -> Window:
    """The hours that are allowed everywhere: a plan meant for everyone stays inside them."""
    return sms_window(policy, policy.state_sms_windows)


def next_allowed_send(
    moment: datetime,
    *,
    zone: ZoneInfo,
    states: Iterable[str],
    policy: Policy,
    also_in: Iterable[ZoneInfo] = (),
) -> datetime:
    """`moment` if a text may arrive then, else the next minute it may (never dropped).
    DST-safe: the window is applied to local wall-clock times of the recipient's zone, and of
    every zone in `also_in` too (their number's, when it differs from their address's: where
    the two disagree, the stricter wins)."""
    states = set(states)
    zones = [zone, *(z for z in also_in if z != zone)]
    for _ in range(16):
        later = max(_next_allowed_in(moment, z, states, policy) for z in zones)
        if later == moment:
            return moment
        moment = later
    raise ValueError("No allowed sending time within a week")  # only if a policy allows none


def _next_allowed_in(
    moment: datetime, zone: ZoneInfo, states: set[str], policy: Policy
) -> datetime:
    window = sms_window(policy, states)
    no_sunday = bool(states & set(policy.no_sunday_sms_states))
    local = moment.astimezone(zone)
    for _ in range(8):
        allowed_day = not (no_sunday and local.weekday() == 6)
        if allowed_day and local.time() in window:
            return local.astimezone(moment.tzinfo)
        if allowed_day and local.time() < window.start:
            local = datetime.combine(local.date(), window.start, zone)
        else:
            local = datetime.combine(local.date() + timedelta(days=1), window.start, zone)
    raise ValueError("No allowed sending time within a week")  # only if a policy allows none


# --- how deep ------------------------------------------------------------------------------


def banned_offer(policy: Policy, store_state: str, kind: str) -> str | None:
    """Why a store in `store_state` may not run an offer of `kind`, or None."""
    if kind not in policy.state_offer_bans.get(store_state, ()):
        return None
    return f"{store_state}'s promotion rules forbid {OFFER_WORDS.get(kind, kind)} offers"


def max_discount_percent(policy: Policy, store_state: str, campaign_max: int | None) -> int:
    """The deepest percentage discount allowed: the store's policy, its state's cap, and the
    campaign's own limit, whichever is lowest."""
    caps = [policy.max_discount_percent]
    if store_state in policy.state_discount_caps:
        caps.append(policy.state_discount_caps[store_state])
    if campaign_max is not None:
        caps.append(campaign_max)
    return min(caps)
