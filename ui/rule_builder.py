"""The visual rule builder: nested AND/OR groups of conditions, edited in place.

The draft is a rule tree (core.segments.rules) whose groups and conditions carry an `_id`, so each
widget keeps its value when a row above it is removed; `clean()` strips the ids before saving.
"""

from __future__ import annotations

import copy
import uuid
from datetime import date
from typing import Any

import streamlit as st

from core.segments.rules import (
    FIELDS,
    MAX_DEPTH,
    NO_VALUE,
    OPERATOR_WORDS,
    OPERATORS,
    Kind,
    choices_for,
)
from ui.context import store_today

WINDOWED = ("in_last_days", "not_in_last_days")


def value_shape(op: str) -> str:
    """What kind of value an operator takes: a day count, a pair, a list, nothing or one value.
    Changing between shapes resets the value, and each shape has its own widget key (a date
    left in a number box's state is what crashed the builder)."""
    if op in NO_VALUE:
        return "none"
    if op in WINDOWED:
        return "days"
    if op == "between":
        return "pair"
    return "list" if op in ("in", "not_in") else "one"


def new_id() -> str:
    return uuid.uuid4().hex[:8]


def tagged(tree: dict[str, Any]) -> dict[str, Any]:
    """A working copy of a rule tree with an `_id` on every group and condition."""
    tree = copy.deepcopy(tree)

    def tag(node: dict[str, Any]) -> None:
        node["_id"] = new_id()
        for child in node.get("conditions", []):
            tag(child)

    tag(tree)
    return tree


def clean(node: dict[str, Any]) -> dict[str, Any]:
    """The rule tree without the builder's ids."""
    out = {key: value for key, value in node.items() if key != "_id"}
    if "conditions" in out:
        out["conditions"] = [clean(child) for child in out["conditions"]]
    return out


class RuleBuilder:
    """Draws a tagged rule tree and keeps it in step with the widgets."""

    def __init__(self, segment_names: dict[int, str], own_id: int | None) -> None:
        self.other_segments = {i: n for i, n in segment_names.items() if i != own_id}

    def draw(self, tree: dict[str, Any]) -> None:
        self._group(tree, None, 0)

    def _group(self, group: dict[str, Any], parent: dict[str, Any] | None, depth: int) -> None:
        key = group["_id"]
        with st.container(border=True):
            group["match"] = st.radio(
                "Customers who match" if parent is None else "A group matching",
                ["all", "any"],
                ["all", "any"].index(group["match"]),
                format_func=lambda m: f"{m} of these",
                horizontal=True,
                key=f"{key}_match",
            )
            for child in list(group["conditions"]):
                if "conditions" in child:
                    self._group(child, group, depth + 1)
                else:
                    self._condition(child, group)
            add, nest, drop, _ = st.columns(4)
            if add.button("+ Condition", key=f"{key}_add"):
                condition = {"field": "total_spent", "op": "gte", "value": 100}
                group["conditions"].append({"_id": new_id(), **condition})
                st.rerun()
            if depth < MAX_DEPTH - 1 and nest.button("+ Group", key=f"{key}_group"):
                condition = {"field": "can_email", "op": "is_true"}
                group["conditions"].append(tagged({"match": "any", "conditions": [condition]}))
                st.rerun()
            if parent is not None and drop.button("Remove group", key=f"{key}_drop"):
                parent["conditions"].remove(group)
                st.rerun()

    def _condition(self, item: dict[str, Any], parent: dict[str, Any]) -> None:
        key = item["_id"]
        fields = list(FIELDS)
        field_col, op_col, value_col, remove_col = st.columns(
            [3, 2, 4, 1], vertical_alignment="bottom"
        )
        field = field_col.selectbox(
            "Field",
            fields,
            fields.index(item["field"]),
            format_func=lambda name: FIELDS[name].label,
            key=f"{key}_field",
            help=FIELDS[item["field"]].help or None,
        )
        kind = FIELDS[field].kind
        operators = list(OPERATORS[kind])
        if field != item["field"] or item.get("op") not in operators:
            item.clear()
            item.update({"_id": key, "field": field, "op": operators[0]})
            item["value"] = self._default_value(kind, operators[0])
        op = op_col.selectbox(
            "Operator",
            operators,
            operators.index(item["op"]),
            format_func=OPERATOR_WORDS.get,
            key=f"{key}_op",
        )
        if value_shape(op) != value_shape(item["op"]):
            item["value"] = self._default_value(kind, op)
        item["op"] = op
        with value_col:
            self._value(item, kind, f"{key}_value_{value_shape(op)}")
        if remove_col.button("✕", key=f"{key}_remove", help="Remove this condition"):
            parent["conditions"].remove(item)
            st.rerun()

    def _default_value(self, kind: Kind, op: str) -> Any:
        if op in WINDOWED:
            return 30
        defaults: dict[Kind, Any] = {
            Kind.NUMBER: 0,
            Kind.MONEY: 100,
            Kind.ACTIVITY: 1,
            Kind.TEXT: "",
            Kind.CHOICE: [],
            Kind.DATE: store_today().isoformat(),
            Kind.PURCHASE: "wine",
            Kind.SEGMENT: next(iter(self.other_segments), 0),
        }
        return defaults.get(kind)

    def _value(self, item: dict[str, Any], kind: Kind, key: str) -> None:
        op = item["op"]
        if op in NO_VALUE:
            item.pop("value", None)
            return
        spec = FIELDS[item["field"]]
        current = item.get("value")
        if op == "between":
            low, high = current if isinstance(current, list) and len(current) == 2 else (0, 0)
            first, second = st.columns(2)
            item["value"] = [
                self._scalar(first, "From", kind, low, f"{key}_lo"),
                self._scalar(second, "To", kind, high, f"{key}_hi"),
            ]
        elif op in WINDOWED:
            item["value"] = int(st.number_input("Days", 1, 3650, int(current or 30), key=key))
        elif kind == Kind.CHOICE:
            choices = list(choices_for(spec))
            chosen = [value for value in (current or []) if value in choices]
            item["value"] = st.multiselect("Values", choices, chosen, key=key)
        elif kind == Kind.PURCHASE:
            choices = list(spec.choices)
            index = choices.index(current) if current in choices else 0
            item["value"] = st.selectbox("Category", choices, index, key=key)
        elif kind == Kind.SEGMENT:
            self._segment(item, key)
        elif op in ("in", "not_in"):
            text = st.text_input("Values, comma-separated", ", ".join(current or []), key=key)
            item["value"] = [part.strip() for part in text.split(",") if part.strip()]
        else:
            label = {Kind.MONEY: "$", Kind.DATE: "Date", Kind.TEXT: "Text"}.get(kind, "Value")
            if item["field"] == "spent_in_last":
                label = "$"
            item["value"] = self._scalar(st, label, kind, current, key)
        if kind in (Kind.ACTIVITY, Kind.PURCHASE):
            self._window(item, kind, f"{key}_days")

    @staticmethod
    def _scalar(where: Any, label: str, kind: Kind, current: Any, key: str) -> Any:
        if kind == Kind.DATE:
            day = date.fromisoformat(current) if isinstance(current, str) else store_today()
            return where.date_input(label, day, key=key).isoformat()
        if kind == Kind.TEXT:
            return where.text_input(label, current or "", key=key)
        number = where.number_input(label, value=float(current or 0), key=key)
        return int(number) if float(number).is_integer() else number

    def _segment(self, item: dict[str, Any], key: str) -> None:
        options = list(self.other_segments)
        if not options:
            st.caption("No other segment yet.")
            return
        current = item.get("value") if item.get("value") in options else options[0]
        item["value"] = st.selectbox(
            "Segment",
            options,
            options.index(current),
            format_func=self.other_segments.get,
            key=key,
        )

    @staticmethod
    def _window(item: dict[str, Any], kind: Kind, key: str) -> None:
        """'In the last N days': required for activity counts, optional (0 = ever) for
        purchases."""
        optional = kind == Kind.PURCHASE
        days = st.number_input(
            "In the last … days" + (" (0 = ever)" if optional else ""),
            0 if optional else 1,
            3650,
            int(item.get("days") or (0 if optional else 90)),
            key=key,
        )
        if days:
            item["days"] = int(days)
        else:
            item.pop("days", None)
