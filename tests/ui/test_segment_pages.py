"""The Segments list and the rule builder, through the frame, on a small scored demo store."""

import json
from collections.abc import Callable

import pytest
from sqlalchemy import select

from core import demo, scoring
from core.db import session_scope
from core.models import Segment
from core.permissions import SYSTEM, Role
from core.segments import playbooks
from tests.moments import NOW, TODAY
from tests.ui.conftest import frame, make_user, sign_in, texts


def build_store() -> None:
    demo.load_demo(
        unit_of_work=session_scope, actor=SYSTEM, today=TODAY, customers=300, seed=9, now=NOW
    )
    scoring.score_customers(unit_of_work=session_scope, actor=SYSTEM, as_of=TODAY, now=NOW)


@pytest.fixture
def store(built_store: Callable[..., None]) -> None:
    """A scored 300-customer demo store."""
    built_store("ui-segments", build_store)


def open_segment(role: Role, segment_id: int | None = None, *, new_user: bool = True):
    at = sign_in(frame(), make_user(role) if new_user else f"{role}@example.com")
    if segment_id is not None:
        at.query_params["id"] = str(segment_id)
    return at.switch_page("pages/segment.py").run()


def button(at, label: str):
    return next(b for b in at.button if b.label == label)


def test_a_playbook_becomes_a_segment_in_one_click(store: None) -> None:
    at = sign_in(frame(), make_user(Role.MARKETER))
    at.switch_page("pages/segments.py").run()
    assert "No segments yet" in texts(at)
    button(at, "Create").click().run()  # the first playbook: lapsed wine lovers
    assert not at.exception
    assert "Created “Lapsed wine lovers”" in texts(at)
    table = at.dataframe[0].value
    assert list(table["Segment"]) == ["Lapsed wine lovers"]
    at.session_state["segments_tab"] = "Playbooks"
    at.run()
    assert ":green-badge[In use]" in texts(at)


def test_build_a_segment_with_a_live_count_and_save_it(store: None) -> None:
    at = open_segment(Role.MARKETER)
    assert at.title[0].value == "New segment"
    starting = int(at.metric[0].value.replace(",", ""))
    assert starting > 0 and "Churn risk is one of high" in texts(at)

    # Widen the rule: high or medium risk. The count follows.
    at.multiselect[0].select("medium").run()
    widened = int(at.metric[0].value.replace(",", ""))
    assert widened > starting

    fields = {t.label: t for t in at.text_input}
    fields["Name"].input("Worth a nudge")
    next(b for b in at.button if b.label == "Save segment").click().run()
    assert not at.exception
    assert f"Saved, with {widened:,} customers." in texts(at)
    with session_scope(read_only=True) as session:
        saved = session.scalars(select(Segment)).one()
    assert saved.name == "Worth a nudge" and saved.member_count == widened
    assert saved.rules["conditions"][0]["value"] == ["high", "medium"]


def test_add_and_remove_conditions(store: None) -> None:
    at = open_segment(Role.MARKETER)
    button(at, "+ Condition").click().run()
    assert len(at.metric) == 1 and "total spent is at least $100" in texts(at)
    button(at, "+ Group").click().run()
    assert "and (can be emailed: yes)" in texts(at)
    removes = [b for b in at.button if b.label == "✕"]
    assert len(removes) == 3
    removes[0].click().run()
    assert "Churn risk" not in texts(at) and "Total spent is at least $100" in texts(at)


def test_changing_a_date_operator_resets_its_value_and_keeps_the_draft(store: None) -> None:
    """Once a ValueError: the date stayed in the value and the day-count box choked on it."""
    at = open_segment(Role.MARKETER)
    button(at, "+ Condition").click().run()
    fields = [s for s in at.selectbox if s.label == "Field"]
    fields[1].set_value("last_order").run()
    assert not at.exception
    operators = [s for s in at.selectbox if s.label == "Operator"]
    operators[1].set_value("in_last_days").run()
    assert not at.exception
    assert "last order is within the last 30 days" in texts(at).lower()
    days = next(n for n in at.number_input if n.label == "Days")
    days.set_value(45).run()
    [s for s in at.selectbox if s.label == "Operator"][1].set_value("before").run()
    assert not at.exception
    # The first condition (churn risk) is still there: the draft was never lost.
    assert "Churn risk is one of high" in texts(at)
    [s for s in at.selectbox if s.label == "Operator"][1].set_value("not_in_last_days").run()
    assert not at.exception and next(n for n in at.number_input if n.label == "Days").value == 30


def test_json_rules_are_checked_like_the_builder(store: None) -> None:
    at = open_segment(Role.MARKETER)
    too_young = {"match": "all", "conditions": [{"field": "age", "op": "lt", "value": 25}]}
    at.text_area[0].input(json.dumps(too_young))
    button(at, "Use this JSON").click().run()
    assert "cannot reach customers under 21" in texts(at)
    assert not at.metric

    at.text_area[0].input("{not json")
    button(at, "Use this JSON").click().run()
    assert "That is not a rule tree" in texts(at)


@pytest.mark.slow
def test_compare_segments_draws_a_venn(store: None) -> None:
    with session_scope() as session:
        made = [
            playbooks.create_from_playbook(session=session, actor=SYSTEM, key=key, now=NOW).name
            for key in ("champions", "win-back", "lapsed-wine")
        ]
    at = sign_in(frame(), make_user(Role.VIEWER))
    at.switch_page("pages/segments.py").run()
    assert not at.exception
    assert not [b for b in at.button if b.label == "Create"], "viewers cannot create"
    assert "Natural clusters" not in texts(at), "the slow tab runs only when opened"
    assert sorted(at.dataframe[0].value["Segment"]) == sorted(made)
    at.session_state["segments_tab"] = "Clusters, lookalikes, overlap"
    at.run()
    assert "Natural clusters" in texts(at)
    at.multiselect[0].set_value([1, 2]).run()
    assert len(at.get("plotly_chart")) == 1


def test_viewers_read_a_segment_but_do_not_edit_it(store: None) -> None:
    with session_scope() as session:
        made = playbooks.create_from_playbook(
            session=session, actor=SYSTEM, key="champions", now=NOW
        )
        segment_id, members = made.id, made.member_count
    at = open_segment(Role.VIEWER, segment_id)
    assert not at.exception
    assert "RFM segment is one of Champions" in texts(at)
    assert f"{members:,} customers" in texts(at)
    assert not at.text_input and not [b for b in at.button if b.label == "Delete segment"]
    assert len(at.dataframe[0].value) == min(members, 50)


@pytest.mark.slow
def test_delete_and_unknown_segments(store: None) -> None:
    with session_scope() as session:
        segment_id = playbooks.create_from_playbook(
            session=session, actor=SYSTEM, key="champions", now=NOW
        ).id
    at = open_segment(Role.MARKETER, segment_id)
    button(at, "Delete segment").click().run()
    assert "Delete “Champions (VIP)” for good?" in texts(at)
    button(at, "Cancel").click().run()
    assert "for good?" not in texts(at), "cancel forgets the question"
    at = open_segment(Role.MARKETER, segment_id, new_user=False)
    assert "Champions (VIP)" in texts(at)
    button(at, "Delete segment").click().run()
    button(at, "Yes, delete").click().run()
    assert "Deleted “Champions (VIP)”" in texts(at)
    at = open_segment(Role.MARKETER, segment_id, new_user=False)
    assert "Segment not found" in texts(at)
