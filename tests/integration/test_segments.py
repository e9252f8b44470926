"""Segments on SQLite and PostgreSQL: rules against a plain-Python reading of the same data,
refreshes, references, overlap, playbooks, clusters and lookalikes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, func, select

from core import customers, demo, scoring, segments
from core.compliance.age import years_ago
from core.db import session_scope
from core.errors import Conflict, PermissionDenied, ValidationError
from core.models import AuditEntry, Customer, Order, OrderItem, Segment, SegmentMember
from core.permissions import SYSTEM, Actor, Role
from core.segments import audiences, playbooks
from core.segments.rules import FIELDS, Kind, parse_rules
from jobs import tasks

TODAY = date(2026, 11, 26)
NOW = datetime.combine(TODAY, time(12), UTC)
MARKETER = Actor(user_id=None, email="marketer@example.com", role=Role.MARKETER)


def build_store() -> None:
    """A scored 600-customer demo, plus a deleted customer, one on file as 19 years old and a few
    with no date of birth."""
    demo.load_demo(
        unit_of_work=session_scope, actor=SYSTEM, today=TODAY, customers=600, seed=4, now=NOW
    )
    scoring.score_customers(unit_of_work=session_scope, actor=SYSTEM, as_of=TODAY, now=NOW)
    with session_scope() as session:
        big_spenders = session.scalars(
            select(Customer).order_by(Customer.total_spent_cents.desc()).limit(2)
        ).all()
        big_spenders[0].deleted_at = NOW
        big_spenders[1].birth_date = years_ago(TODAY, 19)
        for customer in session.scalars(select(Customer).order_by(Customer.id).limit(7)):
            customer.birth_date = None


@pytest.fixture
def store(database: str, built_store: Callable[..., None]) -> str:
    built_store("segments", build_store)
    return database


# --- a plain-Python reading of the rules, to check the SQL against --------------------------


@dataclass
class Shopper:
    customer: Customer
    orders: list[tuple[datetime, int]]
    bought: list[tuple[datetime, str]]


def load_shoppers() -> dict[int, Shopper]:
    with session_scope(read_only=True) as session:
        found = {c.id: Shopper(c, [], []) for c in session.scalars(select(Customer))}
        for customer_id, at, total in session.execute(
            select(Order.customer_id, Order.ordered_at, Order.total_cents)
        ):
            found[customer_id].orders.append((at, total))
        for customer_id, at, category in session.execute(
            select(Order.customer_id, Order.ordered_at, OrderItem.category).join(
                OrderItem, OrderItem.order_id == Order.id
            )
        ):
            found[customer_id].bought.append((at, category))
        session.expunge_all()
    return found


def compare(value: Any, op: str, target: Any) -> bool:
    if op in ("is_empty", "is_not_empty"):
        return (value is None) == (op == "is_empty")
    if op in ("ne", "not_in") and value is None:
        return True
    if value is None:
        return False
    return {
        "eq": lambda: value == target,
        "ne": lambda: value != target,
        "gt": lambda: value > target,
        "gte": lambda: value >= target,
        "lt": lambda: value < target,
        "lte": lambda: value <= target,
        "between": lambda: target[0] <= value <= target[1],
        "in": lambda: value in target,
        "not_in": lambda: value not in target,
    }[op]()


def cents(value: Any) -> Any:
    return [round(v * 100) for v in value] if isinstance(value, list) else round(value * 100)


def age(born: date | None) -> int | None:
    if born is None:
        return None
    return TODAY.year - born.year - ((TODAY.month, TODAY.day) < (born.month, born.day))


def holds(shopper: Shopper, c: dict[str, Any]) -> bool:
    customer, spec = shopper.customer, FIELDS[c["field"]]
    op, value = c["op"], c.get("value")
    if spec.kind == Kind.ACTIVITY:
        since = NOW - timedelta(days=c["days"])
        recent = [total for at, total in shopper.orders if at >= since]
        amount = sum(recent) if c["field"] == "spent_in_last" else len(recent)
        return compare(amount, op, cents(value) if c["field"] == "spent_in_last" else value)
    if spec.kind == Kind.PURCHASE:
        since = NOW - timedelta(days=c.get("days", 100_000))
        hit = any(cat == value and at >= since for at, cat in shopper.bought)
        return hit == (op == "bought")
    if c["field"] == "age":
        return compare(age(customer.birth_date), op, value)
    if c["field"] == "can_email":
        ok = customer.email_opt_in and customer.email_status == "active" and bool(customer.email)
        return ok == (op == "is_true")
    if spec.kind == Kind.BOOLEAN:
        return bool(getattr(customer, spec.column.key)) == (op == "is_true")
    attribute = getattr(customer, spec.column.key)
    if spec.kind == Kind.MONEY:
        return compare(attribute, op, cents(value))
    if spec.kind == Kind.TEXT:
        text = (attribute or "").lower()
        if op == "contains":
            return value.lower() in text
        if op == "starts_with":
            return text.startswith(value.lower())
        return compare(text, op, value.lower())
    if spec.kind == Kind.DATE:
        since = NOW - timedelta(days=value) if op.endswith("in_last_days") else None
        if op == "in_last_days":
            return attribute is not None and attribute >= since
        if op == "not_in_last_days":
            return attribute is None or attribute < since
        start = datetime.combine(date.fromisoformat(value), time.min, UTC)
        if op == "before":
            return attribute is not None and attribute < start
        return attribute is not None and attribute >= start + timedelta(days=1)
    return compare(attribute, op, value)


def selects(shopper: Shopper, group: dict[str, Any]) -> bool:
    results = (
        selects(shopper, item) if "conditions" in item else holds(shopper, item)
        for item in group["conditions"]
    )
    return all(results) if group["match"] == "all" else any(results)


def reference(rules: dict[str, Any]) -> set[int]:
    adult_cutoff = years_ago(TODAY, 21)
    return {
        cid
        for cid, shopper in load_shoppers().items()
        if shopper.customer.deleted_at is None
        and (shopper.customer.birth_date is None or shopper.customer.birth_date <= adult_cutoff)
        and selects(shopper, rules)
    }


def matched(rules: dict[str, Any]) -> set[int]:
    with session_scope(read_only=True) as session:
        return set(session.scalars(segments.matching(session, parse_rules(rules), now=NOW)))


def all_of(*conditions: dict[str, Any]) -> dict[str, Any]:
    return {"match": "all", "conditions": list(conditions)}


def any_of(*conditions: dict[str, Any]) -> dict[str, Any]:
    return {"match": "any", "conditions": list(conditions)}


RULES = {
    "big spenders": all_of({"field": "total_spent", "op": "gte", "value": 1000}),
    "mid baskets": all_of({"field": "average_order", "op": "between", "value": [40, 80.5]}),
    "high risk": all_of({"field": "churn_risk", "op": "in", "value": ["high"]}),
    "not low risk": all_of({"field": "churn_risk", "op": "not_in", "value": ["low"]}),
    "wine fans lapsed": all_of(
        {"field": "preferred_category", "op": "in", "value": ["wine"]},
        {"field": "last_order", "op": "not_in_last_days", "value": 60},
    ),
    "recent beer": all_of(
        {"field": "bought_category", "op": "bought", "value": "beer", "days": 30}
    ),
    "never mixers": all_of({"field": "bought_category", "op": "not_bought", "value": "mixers"}),
    "busy quarter": all_of({"field": "orders_in_last", "op": "gte", "value": 3, "days": 90}),
    "spent this month": all_of({"field": "spent_in_last", "op": "gt", "value": 150, "days": 30}),
    "thirties": all_of({"field": "age", "op": "between", "value": [30, 39]}),
    "over 60": all_of({"field": "age", "op": "gt", "value": 60}),
    "no birthday on file": all_of({"field": "age", "op": "is_empty"}),
    "emailable regulars": all_of(
        {"field": "can_email", "op": "is_true"}, {"field": "order_count", "op": "gte", "value": 5}
    ),
    "new this year": all_of({"field": "first_order", "op": "after", "value": "2026-01-01"}),
    "old timers": all_of({"field": "first_order", "op": "before", "value": "2026-03-01"}),
    "name starts": all_of({"field": "last_name", "op": "starts_with", "value": "s"}),
    "email domain": all_of({"field": "email", "op": "contains", "value": "example"}),
    "likely back": all_of({"field": "p_alive", "op": "gte", "value": 0.7}),
    "nested": any_of(
        all_of(
            {"field": "preferred_category", "op": "in", "value": ["spirits"]},
            {"field": "predicted_clv", "op": "gte", "value": 300},
        ),
        all_of(
            {"field": "r_score", "op": "eq", "value": 5},
            {"field": "f_score", "op": "ne", "value": 1},
        ),
        {"field": "rfm_segment", "op": "in", "value": ["Champions", "At Risk"]},
    ),
}


@pytest.mark.slow
@pytest.mark.both_databases
def test_rules_select_exactly_who_they_say(store: str) -> None:
    """Every rule in RULES, on one store (loading it per rule would be slow, not stronger)."""
    with session_scope(read_only=True) as session:
        everyone = session.scalar(select(func.count()).select_from(Customer))
        for name, rules in RULES.items():
            expected = reference(rules)
            assert matched(rules) == expected, name
            count = segments.count_matching(session=session, rules=rules, now=NOW)
            assert count == len(expected), name
            assert 0 < count < everyone, f"{name} selects {count} of {everyone}: not a real test"


@pytest.mark.both_databases
def test_deleted_and_under_21_customers_never_match(store: str) -> None:
    with session_scope(read_only=True) as session:
        deleted = session.scalar(select(Customer.id).where(Customer.deleted_at.is_not(None)))
        minor = session.scalar(
            select(Customer.id).where(Customer.birth_date == years_ago(TODAY, 19))
        )
    everyone = matched(all_of({"field": "order_count", "op": "gte", "value": 0}))
    assert deleted not in everyone and minor not in everyone


def test_ages_count_by_the_stores_day(database: str) -> None:
    """At 9 p.m. in Chicago (the store's zone) it is already tomorrow in UTC: someone whose 21st
    birthday is tomorrow is in no segment, by age rule or any other, until the store's day."""
    evening = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)  # 2026-12-01 21:00 in Chicago
    after_midnight = evening + timedelta(hours=4)
    with session_scope() as session:
        eve = customers.create_customer(
            session=session,
            actor=SYSTEM,
            email="eve@example.com",
            birth_date="2005-12-02",
            now=evening,
        )
        for rules in (
            all_of({"field": "order_count", "op": "gte", "value": 0}),
            all_of({"field": "age", "op": "between", "value": [21, 22]}),
        ):
            group = parse_rules(rules)
            assert list(session.scalars(segments.matching(session, group, now=evening))) == []
            found = session.scalars(segments.matching(session, group, now=after_midnight))
            assert list(found) == [eve.id]


# --- rule-based segments --------------------------------------------------------------------


@pytest.mark.both_databases
def test_create_refresh_update_and_audit(store: str) -> None:
    rules = RULES["busy quarter"]
    with session_scope() as session:
        made = segments.create_segment(
            session=session,
            actor=MARKETER,
            name="Busy",
            rules=rules,
            description="3+ orders",
            now=NOW,
        )
        segment_id = made.id
        assert made.member_count == len(matched(rules)) > 0
        assert made.kind == segments.SegmentKind.DYNAMIC
    with session_scope() as session:
        members = set(session.scalars(segments.member_ids(session=session, segment_id=segment_id)))
        assert members == matched(rules)
        updated = segments.update_segment(
            session=session,
            actor=MARKETER,
            segment_id=segment_id,
            rules=RULES["big spenders"],
            now=NOW,
        )
        assert updated.member_count == len(matched(RULES["big spenders"]))
        actions = session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.entity_type == "segment")
            .order_by(AuditEntry.id)
        ).all()
        assert actions == ["segment.create", "segment.update"]


@pytest.mark.both_databases
def test_names_must_be_unique_and_adult(store: str) -> None:
    with session_scope() as session:
        segments.create_segment(
            session=session, actor=MARKETER, name="VIPs", rules=RULES["nested"], now=NOW
        )
    with pytest.raises(Conflict), session_scope() as session:
        segments.create_segment(
            session=session, actor=MARKETER, name="vips", rules=RULES["nested"], now=NOW
        )
    with pytest.raises(ValidationError, match="only reach adults"), session_scope() as session:
        segments.create_segment(
            session=session, actor=MARKETER, name="Spring break", rules=RULES["nested"], now=NOW
        )


def test_viewers_cannot_change_segments(store: str) -> None:
    viewer = Actor(user_id=None, email="viewer@example.com", role=Role.VIEWER)
    with pytest.raises(PermissionDenied), session_scope() as session:
        segments.create_segment(
            session=session, actor=viewer, name="X", rules=RULES["nested"], now=NOW
        )


@pytest.mark.both_databases
def test_segments_built_on_segments_refresh_in_order_and_never_loop(store: str) -> None:
    with session_scope() as session:
        base = segments.create_segment(
            session=session, actor=MARKETER, name="Base", rules=RULES["high risk"], now=NOW
        )
        on_top = segments.create_segment(
            session=session,
            actor=MARKETER,
            name="On top",
            rules=all_of(
                {"field": "segment", "op": "in", "value": base.id},
                {"field": "can_email", "op": "is_true"},
            ),
            now=NOW,
        )
        ids = base.id, on_top.id
    with pytest.raises(ValidationError, match="depend on itself"), session_scope() as session:
        segments.update_segment(
            session=session,
            actor=MARKETER,
            segment_id=ids[0],
            rules=all_of({"field": "segment", "op": "not_in", "value": ids[1]}),
            now=NOW,
        )
    with pytest.raises(ValidationError, match="does not exist"), session_scope() as session:
        segments.count_matching(
            session=session, rules=all_of({"field": "segment", "op": "in", "value": 999}), now=NOW
        )
    with pytest.raises(Conflict, match="used by: On top"), session_scope() as session:
        segments.delete_segment(session=session, actor=MARKETER, segment_id=ids[0])

    # Widen the base's rule: the segment built on it follows on the next refresh of all.
    with session_scope() as session:
        session.get(Segment, ids[0]).rules = RULES["not low risk"]
    with session_scope() as session:
        refreshed = segments.refresh_all(session=session, actor=SYSTEM, now=NOW)
    assert refreshed["Base"] == len(matched(RULES["not low risk"]))
    expected = matched(RULES["not low risk"]) & matched(
        all_of({"field": "can_email", "op": "is_true"})
    )
    assert refreshed["On top"] == len(expected)


@pytest.mark.both_databases
def test_hand_picked_segments_keep_who_was_added(store: str) -> None:
    with session_scope() as session:
        picked = segments.create_static_segment(session=session, actor=MARKETER, name="Picked")
        some = session.scalars(select(Customer.id).limit(5)).all()
        assert segments.add_members(
            session=session,
            actor=MARKETER,
            segment_id=picked.id,
            customer_ids=[*some, *some],
            now=NOW,
        ) == len(some)
        with pytest.raises(ValidationError):
            segments.update_segment(
                session=session,
                actor=MARKETER,
                segment_id=picked.id,
                rules=RULES["nested"],
                now=NOW,
            )
        assert segments.refresh_all(session=session, actor=SYSTEM, now=NOW) == {}
        assert picked.member_count == 5


@pytest.mark.both_databases
def test_overlap_counts_every_combination(store: str) -> None:
    with session_scope() as session:
        made = [
            segments.create_segment(
                session=session, actor=MARKETER, name=name, rules=RULES[name], now=NOW
            )
            for name in ("high risk", "busy quarter", "emailable regulars")
        ]
        result = segments.overlap(session=session, segment_ids=[s.id for s in made])
    sets = [matched(RULES[name]) for name in result.names]
    for key, count in result.counts.items():
        inside = set.intersection(*[s for s, flag in zip(sets, key, strict=True) if flag])
        outside = set().union(*[s for s, flag in zip(sets, key, strict=True) if not flag])
        assert count == len(inside - outside), key
    assert [result.total(i) for i in range(3)] == [len(s) for s in sets]
    with pytest.raises(ValidationError), session_scope() as session:
        segments.overlap(session=session, segment_ids=[made[0].id])


# --- playbooks, clusters, lookalikes --------------------------------------------------------


@pytest.mark.slow
@pytest.mark.both_databases
def test_every_playbook_becomes_a_segment_once(store: str) -> None:
    with session_scope() as session:
        for playbook in playbooks.PLAYBOOKS:
            made = playbooks.create_from_playbook(
                session=session, actor=MARKETER, key=playbook.key, now=NOW
            )
            assert made.description.startswith(playbook.why)
        assert playbooks.used(session=session) == {p.key for p in playbooks.PLAYBOOKS}
        suggested = audiences.suggestions(session=session, now=NOW)
        assert suggested == [s for s in suggested if s.kind == "cluster"]
    with pytest.raises(Conflict), session_scope() as session:
        playbooks.create_from_playbook(session=session, actor=MARKETER, key="champions", now=NOW)


@pytest.mark.slow
def test_clusters_cover_every_buyer_and_save_as_segments(store: str) -> None:
    with session_scope(read_only=True) as session:
        clustering = audiences.rfm_clusters(session=session, now=NOW)
        buyers = matched(all_of({"field": "order_count", "op": "gte", "value": 1}))
    assert 3 <= clustering.k <= 8 and clustering.silhouette > 0.2
    # Two visits hours apart on the same day see the same groups.
    with session_scope(read_only=True) as session:
        later = audiences.rfm_clusters(session=session, now=NOW.replace(hour=23, minute=59))
    assert [(c.name, c.customers) for c in later.clusters] == [
        (c.name, c.customers) for c in clustering.clusters
    ]
    assert set(clustering.labels.index) == buyers
    assert sum(c.customers for c in clustering.clusters) == len(buyers)
    values = [c.predicted_value_cents for c in clustering.clusters]
    assert values == sorted(values, reverse=True)
    with session_scope() as session:
        top = clustering.clusters[0]
        saved = audiences.save_cluster(session=session, actor=MARKETER, name=top.name, now=NOW)
        assert saved.name == f"Cluster: {top.name}" and saved.member_count == top.customers


def test_lookalikes_resemble_the_seed_and_leave_it_out(store: str) -> None:
    with session_scope() as session:
        seed = playbooks.create_from_playbook(
            session=session, actor=MARKETER, key="champions", now=NOW
        )
        seed_members = set(
            session.scalars(segments.member_ids(session=session, segment_id=seed.id))
        )
        found = audiences.lookalike(session=session, seed_segment_id=seed.id, now=NOW)
    assert found.customer_ids and not set(found.customer_ids) & seed_members
    assert found.similarity >= audiences.TARGET_SIMILARITY
    assert len(found.customer_ids) <= min(found.size_at_target, found.seed_size)
    with session_scope(read_only=True) as session:
        spend = {
            cid: cents
            for cid, cents in session.execute(select(Customer.id, Customer.total_spent_cents))
        }
    # Lookalikes of champions out-spend everyone else outside the seed.
    rest = set(spend) - seed_members - set(found.customer_ids)
    lookalike_mean = sum(spend[i] for i in found.customer_ids) / len(found.customer_ids)
    assert lookalike_mean > 1.5 * sum(spend[i] for i in rest) / len(rest)
    with session_scope() as session:
        saved = audiences.save_lookalike(
            session=session, actor=MARKETER, seed_segment_id=seed.id, now=NOW
        )
        assert saved.member_count == len(found.customer_ids)


def test_scoring_job_refreshes_rule_based_segments(store: str) -> None:
    with session_scope() as session:
        made = segments.create_segment(
            session=session, actor=MARKETER, name="Risky", rules=RULES["high risk"], now=NOW
        )
        session.execute(delete(SegmentMember).where(SegmentMember.segment_id == made.id))
        segments.refresh_count(session=session, segment_id=made.id, now=NOW)
    result = tasks.score(actor=SYSTEM, progress=lambda _pct, _msg="": None, as_of=str(TODAY))
    with session_scope(read_only=True) as session:
        count = session.get(Segment, made.id).member_count
    assert result["segments"] == {"Risky": count}
    assert count == len(matched(RULES["high risk"])) > 0


def test_a_page_saves_a_segment_or_a_selection_in_one_call(store: str) -> None:
    """save_segment creates (no id) or updates; add_to_static_segment picks or creates the
    hand-picked segment, then adds: what the segment and customers pages call."""
    with session_scope() as session:
        made = segments.save_segment(
            session=session,
            actor=MARKETER,
            segment_id=None,
            name="Busy",
            description="3+ orders",
            rules=RULES["busy quarter"],
            now=NOW,
        )
        assert made.member_count == len(matched(RULES["busy quarter"])) > 0
        renamed = segments.save_segment(
            session=session,
            actor=MARKETER,
            segment_id=made.id,
            name="Busy quarter",
            description="",
            rules=None,
            now=NOW,
        )
        assert (renamed.id, renamed.name, renamed.rules) == (made.id, "Busy quarter", made.rules)
        with pytest.raises(ValidationError, match="needs its rules"):
            segments.save_segment(
                session=session,
                actor=MARKETER,
                segment_id=None,
                name="Empty",
                description="",
                rules=None,
                now=NOW,
            )
        some = session.scalars(select(Customer.id).order_by(Customer.id).limit(4)).all()
        added = segments.add_to_static_segment(
            session=session,
            actor=MARKETER,
            segment_id=None,
            new_name="Picked",
            customer_ids=some[:3],
            now=NOW,
        )
        picked = session.scalars(select(Segment).where(Segment.name == "Picked")).one()
        assert (added, picked.kind) == (3, segments.SegmentKind.STATIC)
        assert (
            segments.add_to_static_segment(
                session=session,
                actor=MARKETER,
                segment_id=picked.id,
                new_name="",
                customer_ids=some,
                now=NOW,
            )
            == 1
        )
        assert picked.member_count == 4
