"""The plan editor's rows: defaults for what a marketer leaves empty, and failures in words."""

from datetime import date, time

import pytest
from pydantic import ValidationError as PydanticValidationError

from core.campaigns.plans import Plan
from ui.campaign_builder import DEFAULT_TEMPLATE, _in_words, _send_from_row

SEGMENTS = {"Lapsed wine": 7}
TEMPLATES = {"Cellar note (email)": 3}


def test_a_row_with_only_a_day_and_a_segment_gets_defaults() -> None:
    row = {"Day": date(2026, 12, 3), "Segment": "Lapsed wine", "Time": None, "Value": float("nan")}
    send = _send_from_row(1, row, SEGMENTS, TEMPLATES, ["sms", "email"])
    assert send == {
        "day": date(2026, 12, 3),
        "local_time": "10:00",
        "segment_id": 7,
        "channel": "sms",
        "offer_kind": "none",
        "offer_value": 0.0,
        "offer_category": None,
        "angle": "",
        "template_id": None,
    }


def test_labels_and_pickers_map_back_to_values() -> None:
    row = {
        "Day": date(2026, 12, 3),
        "Segment": "Lapsed wine",
        "Time": time(18, 30),
        "Channel": "email",
        "Offer": "% off",
        "Value": 15,
        "Category": "wine",
        "Template": "Cellar note (email)",
    }
    send = _send_from_row(2, row, SEGMENTS, TEMPLATES, ["email"])
    assert (send["local_time"], send["offer_kind"], send["template_id"]) == (
        "18:30",
        "percent_off",
        3,
    )
    assert (
        _send_from_row(2, {**row, "Template": DEFAULT_TEMPLATE}, SEGMENTS, TEMPLATES, ["email"])[
            "template_id"
        ]
        is None
    )


def test_missing_segment_or_day_is_named() -> None:
    with pytest.raises(ValueError, match="send 3 needs a segment"):
        _send_from_row(3, {"Day": date(2026, 12, 3)}, SEGMENTS, TEMPLATES, ["email"])
    with pytest.raises(ValueError, match="send 4 needs a day"):
        _send_from_row(4, {"Segment": "Lapsed wine", "Day": None}, SEGMENTS, TEMPLATES, ["email"])


def test_validation_failures_read_as_sentences() -> None:
    with pytest.raises(PydanticValidationError) as caught:
        Plan.model_validate(
            {
                "sends": [
                    {
                        "day": "2026-12-03",
                        "local_time": "10:00",
                        "segment_id": 1,
                        "channel": "email",
                        "offer_value": -5,
                    }
                ]
            }
        )
    assert _in_words(caught.value) == (
        "Send 1: the value — input should be greater than or equal to 0."
    )
    with pytest.raises(PydanticValidationError) as caught:
        Plan.model_validate({"sends": []})
    assert _in_words(caught.value) == "A plan needs at least one send."
