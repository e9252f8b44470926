"""Compliance with alcohol-marketing law (../shared/COMPLIANCE.md): age, consent, the store's
policy and sending windows, and the decision for each message."""

from core.compliance.decision import (
    SEND,
    Decision,
    Verdict,
    decide,
    reachable,
    reachable_anyhow,
    reachable_channels,
)
from core.compliance.policy import (
    AREA_CODE_STATES,
    CANADIAN_AREA_CODES,
    POLICY_KEY,
    STATE_SMS_HOURS,
    Policy,
    Window,
    area_code,
    banned_offer,
    get_policy,
    max_discount_percent,
    next_allowed_send,
    save_policy,
    sms_window,
    states_of,
    strictest_sms_window,
)

__all__ = [
    "AREA_CODE_STATES",
    "CANADIAN_AREA_CODES",
    "POLICY_KEY",
    "SEND",
    "STATE_SMS_HOURS",
    "Decision",
    "Policy",
    "Verdict",
    "Window",
    "area_code",
    "banned_offer",
    "decide",
    "get_policy",
    "max_discount_percent",
    "next_allowed_send",
    "reachable",
    "reachable_anyhow",
    "reachable_channels",
    "save_policy",
    "sms_window",
    "states_of",
    "strictest_sms_window",
]
