"""Segment rules: a JSON tree of AND/OR groups of conditions, checked and compiled to SQL.

    {"match": "all", "conditions": [
        {"field": "churn_risk", "op": "in", "value": ["high"]},
        {"field": "bought_category", "op": "bought", "value": "wine", "days": 180},
        {"match": "any", "conditions": [
            {"field": "total_spent", "op": "gte", "value": 500},
            {"field": "orders_in_last", "op": "gte", "value": 3, "days": 90}]}]}

Only the fields in FIELDS and their operators are accepted; everything else is refused with a
message naming the condition. Compilation builds a SQLAlchemy expression over customers — values
are always bound parameters, never SQL text. `rules_schema()` is the JSON Schema of the format.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy import (
    ColumnElement,
    SQLColumnExpression,
    and_,
    exists,
    extract,
    func,
    not_,
    or_,
    select,
)

from core.compliance.age import LEGAL_DRINKING_AGE, adult_birth_cutoff, years_ago
from core.errors import ValidationError
from core.infra.sql import unindexed
from core.models import Category, Customer, Order, OrderItem, SegmentMember

MAX_DEPTH = 4
MAX_CONDITIONS = 50
MAX_NUMBER = 1_000_000_000
"""Larger than any count or dollar amount a store has; larger values are typos (or probes)."""
MAX_LOOKBACK_DAYS = 36_500
MAX_AGE = 130
MAX_TEXT = 200
MAX_LIST = 1_000
EARLIEST_DATE, LATEST_DATE = date(1900, 1, 1), date(2199, 12, 31)


class Kind(StrEnum):
    NUMBER = "number"
    MONEY = "money"
    TEXT = "text"
    CHOICE = "choice"
    BOOLEAN = "boolean"
    DATE = "date"
    ACTIVITY = "activity"
    """A number counted over the last `days` days of orders."""
    PURCHASE = "purchase"
    """Bought (or not) a category, optionally within the last `days` days."""
    SEGMENT = "segment"


OPERATORS: dict[Kind, tuple[str, ...]] = {
    Kind.NUMBER: ("eq", "ne", "gt", "gte", "lt", "lte", "between", "is_empty", "is_not_empty"),
    Kind.MONEY: ("gt", "gte", "lt", "lte", "between"),
    Kind.TEXT: ("eq", "ne", "contains", "starts_with", "in", "not_in", "is_empty", "is_not_empty"),
    Kind.CHOICE: ("in", "not_in", "is_empty", "is_not_empty"),
    Kind.BOOLEAN: ("is_true", "is_false"),
    Kind.DATE: (
        "before",
        "after",
        "between",
        "in_last_days",
        "not_in_last_days",
        "is_empty",
        "is_not_empty",
    ),
    Kind.ACTIVITY: ("gt", "gte", "lt", "lte", "eq", "between"),
    Kind.PURCHASE: ("bought", "not_bought"),
    Kind.SEGMENT: ("in", "not_in"),
}
OPERATOR_WORDS = {
    "eq": "is",
    "ne": "is not",
    "gt": "is more than",
    "gte": "is at least",
    "lt": "is less than",
    "lte": "is at most",
    "between": "is between",
    "is_empty": "is unknown",
    "is_not_empty": "is known",
    "contains": "contains",
    "starts_with": "starts with",
    "in": "is one of",
    "not_in": "is none of",
    "is_true": "yes",
    "is_false": "no",
    "before": "is before",
    "after": "is after",
    "in_last_days": "is within the last",
    "not_in_last_days": "is not within the last",
    "bought": "bought",
    "not_bought": "did not buy",
}
NO_VALUE = {"is_empty", "is_not_empty", "is_true", "is_false"}


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: str
    kind: Kind
    column: Any = None
    choices: tuple[str, ...] = ()
    help: str = ""


def choices_for(spec: FieldSpec) -> tuple[str, ...]:
    """The values a choice field accepts (RFM segment names live with the scoring)."""
    if spec.name == "rfm_segment":
        from core.scoring.rfm import NO_PURCHASES, RFM_SEGMENT_NAMES

        return (*RFM_SEGMENT_NAMES, NO_PURCHASES)
    return spec.choices


CATEGORIES = tuple(c.value for c in Category)
FIELDS: dict[str, FieldSpec] = {
    spec.name: spec
    for spec in (
        FieldSpec("first_name", "First name", Kind.TEXT, Customer.first_name),
        FieldSpec("last_name", "Last name", Kind.TEXT, Customer.last_name),
        FieldSpec("email", "Email", Kind.TEXT, Customer.email),
        FieldSpec("city", "City", Kind.TEXT, Customer.city),
        FieldSpec("state", "State", Kind.TEXT, Customer.state),
        FieldSpec("zip", "ZIP code", Kind.TEXT, Customer.zip),
        FieldSpec("timezone", "Time zone", Kind.TEXT, Customer.timezone),
        FieldSpec("age", "Age", Kind.NUMBER, help="From the date of birth; 21 and up only."),
        FieldSpec("birthday_month", "Birthday month", Kind.NUMBER, help="1 = January … 12"),
        FieldSpec(
            "birthday_this_month",
            "Birthday this month",
            Kind.BOOLEAN,
            help="Judged on the day the segment refreshes.",
        ),
        FieldSpec("age_verified", "ID checked", Kind.BOOLEAN, Customer.age_verified),
        FieldSpec(
            "can_email",
            "Can be emailed",
            Kind.BOOLEAN,
            help="Opted in, with an address that has not bounced or complained.",
        ),
        FieldSpec(
            "can_text", "Can be texted", Kind.BOOLEAN, help="Opted in to SMS, not opted out."
        ),
        FieldSpec("order_count", "Number of orders", Kind.NUMBER, Customer.order_count),
        FieldSpec("total_spent", "Total spent", Kind.MONEY, Customer.total_spent_cents),
        FieldSpec("average_order", "Average order", Kind.MONEY, Customer.average_order_cents),
        FieldSpec("first_order", "First order", Kind.DATE, Customer.first_order_at),
        FieldSpec("last_order", "Last order", Kind.DATE, Customer.last_order_at),
        FieldSpec("customer_since", "Customer since", Kind.DATE, Customer.created_at),
        FieldSpec("rfm_segment", "RFM segment", Kind.CHOICE, Customer.rfm_segment),
        FieldSpec("r_score", "Recency score (1–5)", Kind.NUMBER, Customer.r_score),
        FieldSpec("f_score", "Frequency score (1–5)", Kind.NUMBER, Customer.f_score),
        FieldSpec("m_score", "Spend score (1–5)", Kind.NUMBER, Customer.m_score),
        FieldSpec(
            "churn_risk", "Churn risk", Kind.CHOICE, Customer.churn_risk, ("low", "medium", "high")
        ),
        FieldSpec("p_alive", "Chance still a customer (0–1)", Kind.NUMBER, Customer.p_alive),
        FieldSpec(
            "predicted_clv", "Predicted value, next year", Kind.MONEY, Customer.predicted_clv_cents
        ),
        FieldSpec(
            "expected_orders", "Expected orders, next year", Kind.NUMBER, Customer.expected_orders
        ),
        FieldSpec(
            "preferred_category",
            "Favourite category",
            Kind.CHOICE,
            Customer.preferred_category,
            CATEGORIES,
        ),
        FieldSpec("spent_in_last", "Spent in the last N days", Kind.ACTIVITY),
        FieldSpec("orders_in_last", "Orders in the last N days", Kind.ACTIVITY),
        FieldSpec("bought_category", "Bought a category", Kind.PURCHASE, choices=CATEGORIES),
        FieldSpec("segment", "Member of segment", Kind.SEGMENT),
    )
}

FORBIDDEN_AUDIENCE = re.compile(
    r"\b(college|student|campus|university|dorm|teen|teenager|high school|freshm[ae]n|"
    r"sorority|fraternity|spring break|under ?21|minor)s?\b",
    re.IGNORECASE,
)
"""Words that point a segment at people too young for alcohol marketing."""


class Condition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    field: str = Field(description="One of the field names in core.segments.rules.FIELDS.")
    op: str = Field(description="An operator allowed for the field's kind.")
    value: Any = Field(default=None, description="A number, text, ISO date, list or [low, high].")
    days: int | None = Field(default=None, ge=1, le=3650, description="For windowed fields.")


def _kind_of(item: Any) -> str:
    has_conditions = isinstance(item, Group) or (isinstance(item, dict) and "conditions" in item)
    return "group" if has_conditions else "condition"


class Group(BaseModel):
    model_config = ConfigDict(extra="forbid")

    match: Literal["all", "any"] = "all"
    conditions: list[
        Annotated[
            Annotated[Condition, Tag("condition")] | Annotated[Group, Tag("group")],
            Discriminator(_kind_of),
        ]
    ] = Field(min_length=1)


def rules_schema() -> dict[str, Any]:
    """The JSON Schema of a rule tree."""
    return Group.model_json_schema()


# --- checking ------------------------------------------------------------------------------


def parse_rules(rules: dict[str, Any] | str) -> Group:
    """Check the shape, fields, operators and values of a rule tree; raise ValidationError
    naming the first bad condition in the builder's words ("Group 3, condition 1: …")."""
    try:
        group = (
            Group.model_validate_json(rules)
            if isinstance(rules, str)
            else Group.model_validate(rules)
        )
    except PydanticValidationError as exc:
        error = exc.errors()[0]
        steps = [p for p in error["loc"] if p not in ("group", "condition", "conditions")]
        where = _place([p for p in steps if isinstance(p, int)])
        named = [p for p in steps if isinstance(p, str)]
        message = error["msg"].replace(
            "List should have at least 1 item after validation, not 0",
            "a group needs at least one condition",
        )
        if named:
            message = f"{named[-1]}: {message}"
        raise ValidationError(f"{where}: {message}", field="rules") from exc
    count = _check_group(group, [], depth=1)
    if count > MAX_CONDITIONS:
        raise ValidationError(f"Too many conditions ({count}); keep it under {MAX_CONDITIONS}.")
    return group


def _place(indexes: list[int], noun: str = "condition") -> str:
    """Where a condition sits, as the builder draws it: [2, 0] → "Group 3, condition 1"."""
    if not indexes:
        return "The rule"
    *groups, last = indexes
    words = [f"group {i + 1}" for i in groups] + [f"{noun} {last + 1}"]
    return ", ".join(words).capitalize()


def _check_group(group: Group, path: list[int], depth: int) -> int:
    if depth > MAX_DEPTH:
        raise ValidationError(
            f"{_place(path, 'group')}: groups nest at most {MAX_DEPTH} deep.", field="rules"
        )
    total = 0
    for index, item in enumerate(group.conditions):
        if isinstance(item, Group):
            total += _check_group(item, [*path, index], depth + 1)
        else:
            _check_condition(item, _place([*path, index]))
            total += 1
    return total


def _bad(where: str, message: str) -> ValidationError:
    return ValidationError(f"{where}: {message}", field="rules")


def _check_condition(c: Condition, where: str) -> None:
    spec = FIELDS.get(c.field)
    if spec is None:
        raise _bad(where, f"unknown field '{c.field}'")
    allowed = OPERATORS[spec.kind]
    if c.op not in allowed:
        raise _bad(where, f"'{c.op}' cannot be used with {spec.label} (use {', '.join(allowed)})")
    if c.op in NO_VALUE:
        return
    value = c.value
    if spec.kind == Kind.ACTIVITY and c.days is None:
        raise _bad(where, f"{spec.label} needs 'days'")
    if c.op == "between":
        if not (isinstance(value, list) and len(value) == 2):
            raise _bad(where, "'between' needs [low, high]")
        for bound in value:
            _check_scalar(spec, c.op, bound, where)
        if _ordered(value[0]) > _ordered(value[1]):
            raise _bad(where, "the low end of 'between' is above the high end")
    elif c.op in ("in", "not_in") and spec.kind != Kind.SEGMENT:
        if not (isinstance(value, list) and value):
            raise _bad(where, f"'{c.op}' needs a non-empty list")
        if len(value) > MAX_LIST:
            raise _bad(where, f"'{c.op}' takes at most {MAX_LIST:,} values")
        for item in value:
            _check_scalar(spec, c.op, item, where)
    else:
        _check_scalar(spec, c.op, value, where)
    if c.field == "age":
        _check_adult_ages(c, where)
    if c.field == "birthday_month" and not all(1 <= v <= 12 for v in _numbers(value)):
        raise _bad(where, "months go from 1 to 12")


def _ordered(value: Any) -> Any:
    return date.fromisoformat(value) if isinstance(value, str) else value


def _numbers(value: Any) -> list[float]:
    return [float(v) for v in (value if isinstance(value, list) else [value])]


def _check_scalar(spec: FieldSpec, op: str, value: Any, where: str) -> None:
    if spec.kind in (Kind.NUMBER, Kind.MONEY, Kind.ACTIVITY) or op in (
        "in_last_days",
        "not_in_last_days",
    ):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _bad(where, f"{spec.label} needs a number, not {value!r}")
        if not math.isfinite(value) or abs(value) > MAX_NUMBER:
            raise _bad(where, f"{value!r} is out of range (at most {MAX_NUMBER:,})")
        if spec.kind == Kind.MONEY and value < 0:
            raise _bad(where, "amounts cannot be negative")
        if op in ("in_last_days", "not_in_last_days") and not 0 <= value <= MAX_LOOKBACK_DAYS:
            raise _bad(where, f"days go from 0 to {MAX_LOOKBACK_DAYS:,}")
        if spec.name == "age" and not 0 <= value <= MAX_AGE:
            raise _bad(where, f"ages go from 0 to {MAX_AGE}")
    elif spec.kind == Kind.DATE:
        try:
            day = date.fromisoformat(str(value))
        except ValueError as exc:
            raise _bad(where, f"{value!r} is not a date (use YYYY-MM-DD)") from exc
        if not EARLIEST_DATE <= day <= LATEST_DATE:
            raise _bad(where, f"dates go from {EARLIEST_DATE} to {LATEST_DATE}")
    elif spec.kind in (Kind.CHOICE, Kind.PURCHASE):
        choices = choices_for(spec)
        if value not in choices:
            raise _bad(where, f"{value!r} is not one of {', '.join(choices)}")
    elif spec.kind == Kind.SEGMENT:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _bad(where, "name a segment by its id")
    elif spec.kind == Kind.TEXT and (not isinstance(value, str) or not value.strip()):
        raise _bad(where, f"{spec.label} needs some text")
    elif spec.kind == Kind.TEXT and len(value) > MAX_TEXT:
        raise _bad(where, f"{spec.label} text is at most {MAX_TEXT} characters")


def _check_adult_ages(c: Condition, where: str) -> None:
    """An age rule may not aim at the young: a rule with an upper age bound must also start at
    21 or above ('age at most 25' would read as 'the youngest customers')."""
    match c.op:
        case "eq":
            low = c.value
        case "lt" | "lte":
            low = None
        case "between":
            low = c.value[0]
        case _:
            return
    if low is None or low < LEGAL_DRINKING_AGE:
        raise _bad(
            where,
            f"rules cannot reach customers under {LEGAL_DRINKING_AGE}; start age ranges at "
            f"{LEGAL_DRINKING_AGE} (e.g. age between {LEGAL_DRINKING_AGE} and 29)",
        )


def check_audience_words(*texts: str) -> None:
    """Refuse segment names and descriptions aimed at under-21s."""
    for text in texts:
        if text and (hit := FORBIDDEN_AUDIENCE.search(text)):
            raise ValidationError(
                f"'{hit.group(0)}' points at people under {LEGAL_DRINKING_AGE}; alcohol "
                "marketing may only reach adults.",
                field="name",
            )


def referenced_segments(group: Group) -> set[int]:
    found: set[int] = set()
    for item in group.conditions:
        if isinstance(item, Group):
            found |= referenced_segments(item)
        elif item.field == "segment":
            found.add(int(item.value))
    return found


# --- compiling -----------------------------------------------------------------------------


def baseline(today: date) -> ColumnElement[bool]:
    """What every segment implies: a live customer not known to be under 21."""
    return and_(
        Customer.deleted_at.is_(None),
        or_(Customer.birth_date.is_(None), Customer.birth_date <= adult_birth_cutoff(today)),
    )


def compile_rules(group: Group, *, now: datetime, today: date) -> ColumnElement[bool]:
    """The SQL condition for a checked rule tree, as of `now` (for "last N days") and the
    store's `today` (for ages)."""
    parts = [
        compile_rules(item, now=now, today=today)
        if isinstance(item, Group)
        else _compile(item, now, today)
        for item in group.conditions
    ]
    return and_(*parts) if group.match == "all" else or_(*parts)


def _since(now: datetime, days: int) -> datetime:
    return now - timedelta(days=days)


def _compare(column: Any, op: str, value: Any) -> ColumnElement[bool]:
    operations: dict[str, Callable[[], ColumnElement[bool]]] = {
        "eq": lambda: column == value,
        "ne": lambda: or_(column != value, column.is_(None)),
        "gt": lambda: column > value,
        "gte": lambda: column >= value,
        "lt": lambda: column < value,
        "lte": lambda: column <= value,
        "between": lambda: column.between(value[0], value[1]),
        "is_empty": lambda: column.is_(None),
        "is_not_empty": lambda: column.is_not(None),
        "in": lambda: column.in_(value),
        "not_in": lambda: or_(column.not_in(value), column.is_(None)),
    }
    return operations[op]()


def _cents(value: Any) -> Any:
    return [round(v * 100) for v in value] if isinstance(value, list) else round(value * 100)


def _compile(c: Condition, now: datetime, today: date) -> SQLColumnExpression[bool]:
    spec = FIELDS[c.field]
    column = unindexed(spec.column) if spec.column is not None else None
    if spec.kind == Kind.MONEY:
        return _compare(column, c.op, _cents(c.value))
    if column is not None and spec.kind in (Kind.NUMBER, Kind.CHOICE):
        return _compare(column, c.op, c.value)
    if spec.kind == Kind.TEXT:
        return _compile_text(column, c)
    if spec.kind == Kind.BOOLEAN:
        truth = _truth(c.field, column, now)
        return truth if c.op == "is_true" else not_(truth)
    if spec.kind == Kind.DATE:
        return _compile_date(column, c, now)
    if c.field == "age":
        return _compile_age(c, today)
    if c.field == "birthday_month":
        return _compare(extract("month", Customer.birth_date), c.op, c.value)
    if spec.kind == Kind.ACTIVITY:
        return _compile_activity(c, now)
    if spec.kind == Kind.PURCHASE:
        bought = (
            select(OrderItem.id)
            .join(Order, Order.id == OrderItem.order_id)
            .where(Order.customer_id == Customer.id, OrderItem.category == c.value)
            .correlate(Customer)
        )
        if c.days:
            bought = bought.where(Order.ordered_at >= _since(now, c.days))
        return bought.exists() if c.op == "bought" else ~bought.exists()
    if spec.kind == Kind.SEGMENT:
        member = exists().where(
            SegmentMember.segment_id == int(c.value), SegmentMember.customer_id == Customer.id
        )
        return member if c.op == "in" else ~member
    raise ValidationError(f"Cannot compile {c.field}")  # unreachable after parse_rules


def _compile_text(column: Any, c: Condition) -> ColumnElement[bool]:
    """Text compares case-insensitively; blank and missing are both 'unknown'."""
    if c.op in ("is_empty", "is_not_empty"):
        blank = or_(column.is_(None), column == "")
        return blank if c.op == "is_empty" else not_(blank)
    lowered = func.lower(column)
    if isinstance(c.value, list):
        return _compare(lowered, c.op, [v.lower() for v in c.value])
    value = c.value.lower()
    if c.op == "contains":
        return lowered.contains(value, autoescape=True)
    if c.op == "starts_with":
        return lowered.startswith(value, autoescape=True)
    return _compare(lowered, c.op, value)


def _truth(field: str, column: Any, now: datetime) -> SQLColumnExpression[bool]:
    if field == "can_email":
        return Customer.can_email
    if field == "can_text":
        return Customer.can_text
    if field == "birthday_this_month":
        return extract("month", Customer.birth_date) == now.month
    return column.is_(True)


def _compile_activity(c: Condition, now: datetime) -> ColumnElement[bool]:
    """Orders or spend over the last `days`, one correlated subquery per customer."""
    assert c.days is not None  # parse_rules requires it of activity fields
    recent = and_(Order.customer_id == Customer.id, Order.ordered_at >= _since(now, c.days))
    measure: ColumnElement[int]
    if c.field == "spent_in_last":
        measure, amount = func.coalesce(func.sum(Order.total_cents), 0), _cents(c.value)
    else:
        measure, amount = func.count(Order.id), c.value
    total = select(measure).where(recent).correlate(Customer).scalar_subquery()
    return _compare(total, c.op, amount)


def _compile_date(column: Any, c: Condition, now: datetime) -> ColumnElement[bool]:
    def start_of(day: str) -> datetime:
        return datetime.combine(date.fromisoformat(day), time.min, UTC)

    if c.op == "before":
        return column < start_of(c.value)
    if c.op == "after":
        return column >= start_of(c.value) + timedelta(days=1)
    if c.op == "between":
        return and_(
            column >= start_of(c.value[0]), column < start_of(c.value[1]) + timedelta(days=1)
        )
    if c.op == "in_last_days":
        return column >= _since(now, int(c.value))
    if c.op == "not_in_last_days":
        return or_(column < _since(now, int(c.value)), column.is_(None))
    return _compare(column, c.op, None)


def _compile_age(c: Condition, today: date) -> ColumnElement[bool]:
    """Ages become birth-date ranges computed here, so any backend can use the column's index:
    age ≥ n ⟺ born on or before n years ago; age ≤ n ⟺ born after n + 1 years ago."""
    birth = unindexed(Customer.birth_date)
    if c.op in ("is_empty", "is_not_empty"):
        return _compare(birth, c.op, None)

    def at_least(age: int) -> ColumnElement[bool]:
        return birth <= years_ago(today, int(age))

    def at_most(age: int) -> ColumnElement[bool]:
        return birth > years_ago(today, int(age) + 1)

    value = c.value
    return {
        "eq": lambda: and_(at_least(value), at_most(value)),
        "ne": lambda: or_(birth.is_(None), not_(and_(at_least(value), at_most(value)))),
        "gt": lambda: at_least(value + 1),
        "gte": lambda: at_least(value),
        "lt": lambda: at_most(value - 1),
        "lte": lambda: at_most(value),
        "between": lambda: and_(at_least(value[0]), at_most(value[1])),
    }[c.op]()


# --- describing ----------------------------------------------------------------------------


def describe(group: Group, segment_names: dict[int, str] | None = None) -> str:
    """The rule in plain English, e.g. 'Churn risk is one of high and bought wine in the last
    180 days'."""
    text = _describe(group, segment_names or {})
    start = 1 if text.startswith("(") else 0
    return text[:start] + text[start : start + 1].upper() + text[start + 1 :]


def _describe(group: Group, names: dict[int, str]) -> str:
    words = " and " if group.match == "all" else " or "
    return words.join(
        f"({_describe(item, names)})"
        if isinstance(item, Group)
        else _mid_sentence(_say(item, names))
        for item in group.conditions
    )


def _mid_sentence(phrase: str) -> str:
    """'Last order …' → 'last order …', but 'ID checked' and 'RFM segment' keep their capitals."""
    if len(phrase) > 1 and phrase[1].isupper():
        return phrase
    return phrase[:1].lower() + phrase[1:]


def _say(c: Condition, names: dict[int, str]) -> str:
    spec = FIELDS[c.field]
    label = spec.label.replace(" N days", "").lower() if spec.kind == Kind.ACTIVITY else spec.label
    if spec.kind == Kind.PURCHASE:
        window = f" in the last {c.days} days" if c.days else ""
        return f"{OPERATOR_WORDS[c.op]} {c.value}{window}"
    if spec.kind == Kind.SEGMENT:
        name = names.get(int(c.value), f"segment #{c.value}")
        return f"{'in' if c.op == 'in' else 'not in'} segment “{name}”"
    if spec.kind == Kind.BOOLEAN:
        return f"{spec.label}: {OPERATOR_WORDS[c.op]}"
    verb = OPERATOR_WORDS[c.op]
    value = _show(spec, c)
    if spec.kind == Kind.ACTIVITY:
        return f"{label} {c.days} days {verb} {value}".strip()
    return f"{label} {verb} {value}".strip()


def _show(spec: FieldSpec, c: Condition) -> str:
    if c.op in NO_VALUE:
        return ""
    money = spec.kind == Kind.MONEY or c.field == "spent_in_last"

    def one(value: Any) -> str:
        return f"${value:,.0f}" if money else str(value)

    if c.op == "between":
        return f"{one(c.value[0])} and {one(c.value[1])}"
    if isinstance(c.value, list):
        return ", ".join(one(v) for v in c.value)
    if c.op in ("in_last_days", "not_in_last_days"):
        return f"{c.value} days"
    return one(c.value)
