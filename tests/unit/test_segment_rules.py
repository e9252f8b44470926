"""Segment rules: what is accepted, what is refused and why, how a rule reads in words."""

import json
from datetime import date
from pathlib import Path

import pytest

from core.compliance.age import years_ago
from core.errors import ValidationError
from core.segments.playbooks import PLAYBOOKS
from core.segments.rules import (
    FIELDS,
    MAX_CONDITIONS,
    OPERATORS,
    check_audience_words,
    describe,
    parse_rules,
    referenced_segments,
    rules_schema,
)

ROOT = Path(__file__).resolve().parents[2]


def one(condition: dict) -> dict:
    return {"match": "all", "conditions": [condition]}


def refusal(rules: dict | str) -> str:
    with pytest.raises(ValidationError) as caught:
        parse_rules(rules)
    return str(caught.value)


@pytest.mark.parametrize("playbook", PLAYBOOKS, ids=lambda p: p.key)
def test_every_playbook_rule_is_valid(playbook) -> None:
    assert parse_rules(playbook.rules).conditions


def test_a_rule_arrives_as_json_text_too() -> None:
    text = json.dumps(one({"field": "total_spent", "op": "gte", "value": 100}))
    assert parse_rules(text).conditions[0].value == 100


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        (one({"field": "shoe_size", "op": "eq", "value": 9}), "Condition 1: unknown field"),
        (one({"field": "total_spent", "op": "contains", "value": "x"}), "cannot be used with"),
        (one({"field": "total_spent", "op": "gte", "value": "lots"}), "needs a number"),
        (one({"field": "total_spent", "op": "gte", "value": -5}), "cannot be negative"),
        (one({"field": "orders_in_last", "op": "gte", "value": 2}), "needs 'days'"),
        (one({"field": "order_count", "op": "between", "value": [9, 2]}), "low end"),
        (one({"field": "order_count", "op": "between", "value": 3}), "[low, high]"),
        (one({"field": "churn_risk", "op": "in", "value": ["meh"]}), "not one of low"),
        (one({"field": "churn_risk", "op": "in", "value": []}), "non-empty list"),
        (one({"field": "last_order", "op": "before", "value": "last tuesday"}), "not a date"),
        (one({"field": "birthday_month", "op": "eq", "value": 13}), "1 to 12"),
        (one({"field": "city", "op": "eq", "value": "  "}), "needs some text"),
        (one({"field": "segment", "op": "in", "value": "VIPs"}), "by its id"),
        (one({"field": "rfm_segment", "op": "in", "value": ["Whales"]}), "not one of"),
        ({"match": "all", "conditions": []}, "a group needs at least one condition"),
        ({"match": "some", "conditions": [{"field": "can_email", "op": "is_true"}]}, "match"),
        (one({"field": "city", "op": "eq", "value": "x", "colour": 1}), "colour"),
        ("{not json", "The rule"),
        # Numbers past any store's figures once raised OverflowError deep in the query.
        (one({"field": "total_spent", "op": "gte", "value": 1e308}), "out of range"),
        (one({"field": "order_count", "op": "gte", "value": 10**30}), "out of range"),
        (one({"field": "last_order", "op": "in_last_days", "value": 10**9}), "0 to 36,500"),
        (one({"field": "last_order", "op": "after", "value": "9999-12-31"}), "dates go from"),
        (one({"field": "age", "op": "gte", "value": 100000}), "ages go from 0 to 130"),
        (one({"field": "city", "op": "contains", "value": "x" * 201}), "at most 200"),
        (one({"field": "churn_risk", "op": "in", "value": ["low"] * 1001}), "at most 1,000"),
    ],
)
def test_bad_rules_are_refused_with_the_place_and_the_reason(rules, message: str) -> None:
    assert message in refusal(rules)


def test_the_place_is_named_as_the_builder_draws_it() -> None:
    rules = {
        "match": "all",
        "conditions": [
            {"field": "can_email", "op": "is_true"},
            {"match": "any", "conditions": [{"field": "zip", "op": "eq", "value": " "}]},
        ],
    }
    assert refusal(rules).startswith("Group 2, condition 1: ZIP code needs some text")


def test_nesting_and_size_are_limited() -> None:
    leaf = {"field": "can_email", "op": "is_true"}
    deep = leaf
    for _ in range(5):
        deep = {"match": "all", "conditions": [deep]}
    assert "nest at most" in refusal(deep)
    wide = {"match": "any", "conditions": [leaf] * (MAX_CONDITIONS + 1)}
    assert "Too many conditions" in refusal(wide)


@pytest.mark.parametrize(
    "condition",
    [
        {"field": "age", "op": "lt", "value": 30},
        {"field": "age", "op": "lte", "value": 25},
        {"field": "age", "op": "between", "value": [18, 25]},
        {"field": "age", "op": "eq", "value": 19},
    ],
)
def test_age_rules_cannot_reach_under_21s(condition: dict) -> None:
    assert "cannot reach customers under 21" in refusal(one(condition))


@pytest.mark.parametrize(
    "condition",
    [
        {"field": "age", "op": "between", "value": [21, 29]},
        {"field": "age", "op": "gte", "value": 25},
        {"field": "age", "op": "gt", "value": 40},
        {"field": "age", "op": "eq", "value": 21},
        {"field": "age", "op": "is_not_empty"},
    ],
)
def test_adult_age_rules_are_fine(condition: dict) -> None:
    parse_rules(one(condition))


@pytest.mark.parametrize(
    "text", ["College night", "Spring break blowout", "students", "Dorm party", "under 21s"]
)
def test_names_aimed_at_the_young_are_refused(text: str) -> None:
    with pytest.raises(ValidationError, match="only reach adults"):
        check_audience_words("Fine name", text)


@pytest.mark.parametrize("text", ["Collectors", "Minority-owned wineries", "Dormant VIPs", ""])
def test_ordinary_words_are_not_mistaken_for_them(text: str) -> None:
    check_audience_words(text)


def test_every_field_kind_has_operators() -> None:
    assert all(spec.kind in OPERATORS for spec in FIELDS.values())


def test_rules_read_as_a_sentence() -> None:
    rules = {
        "match": "all",
        "conditions": [
            {"field": "churn_risk", "op": "in", "value": ["high", "medium"]},
            {"field": "bought_category", "op": "bought", "value": "wine", "days": 180},
            {
                "match": "any",
                "conditions": [
                    {"field": "total_spent", "op": "gte", "value": 500},
                    {"field": "orders_in_last", "op": "gte", "value": 3, "days": 90},
                    {"field": "segment", "op": "not_in", "value": 7},
                    {"field": "age_verified", "op": "is_true"},
                ],
            },
        ],
    }
    assert describe(parse_rules(rules), {7: "VIPs"}) == (
        "Churn risk is one of high, medium and bought wine in the last 180 days and "
        "(total spent is at least $500 or orders in the last 90 days is at least 3 or "
        "not in segment “VIPs” or ID checked: yes)"
    )


def test_segment_references_are_found_at_any_depth() -> None:
    rules = {
        "match": "any",
        "conditions": [
            {"field": "segment", "op": "in", "value": 3},
            {"match": "all", "conditions": [{"field": "segment", "op": "not_in", "value": 5}]},
        ],
    }
    assert referenced_segments(parse_rules(rules)) == {3, 5}


def test_years_ago_handles_leap_days() -> None:
    assert years_ago(date(2028, 2, 29), 21) == date(2007, 2, 28)
    assert years_ago(date(2026, 11, 26), 21) == date(2005, 11, 26)


def test_the_published_schema_is_the_one_the_code_checks() -> None:
    published = json.loads((ROOT / "docs" / "segment-rules.schema.json").read_text())
    assert published == rules_schema()
