"""Segments: named groups of customers — hand-picked lists, or rules kept up to date.

A rule-based segment stores its rule tree (core.segments.rules) and, after each refresh, its
members; other segments, counts and campaigns read the stored members. Every segment implicitly
leaves out deleted customers and anyone known to be under 21.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, case, delete, func, insert, literal, select, update
from sqlalchemy.orm import Session

from core.db import UTCDateTime, upsert
from core.errors import Conflict, NotFound, ValidationError
from core.infra import audit, events
from core.models import Campaign, CampaignStatus, Customer, Segment, SegmentKind, SegmentMember
from core.permissions import Actor, Permission, authorize
from core.segments.rules import (
    Group,
    baseline,
    check_audience_words,
    compile_rules,
    describe,
    parse_rules,
    referenced_segments,
)
from core.store_profile import get_store_profile


def list_segments(*, session: Session) -> list[Segment]:
    return list(session.scalars(select(Segment).order_by(Segment.name)))


def get_segment(*, session: Session, segment_id: int) -> Segment:
    segment = session.get(Segment, segment_id)
    if segment is None:
        raise NotFound(f"There is no segment #{segment_id}.")
    return segment


def names(*, session: Session) -> dict[int, str]:
    return dict(session.execute(select(Segment.id, Segment.name)).all())


def _check_name(session: Session, name: str, description: str, own_id: int | None) -> str:
    name = name.strip()
    if not name:
        raise ValidationError("A segment needs a name.", field="name")
    check_audience_words(name, description)
    clash = session.scalar(
        select(Segment.id).where(
            func.lower(Segment.name) == name.lower(), Segment.id != (own_id or 0)
        )
    )
    if clash:
        raise Conflict(f"A segment named '{name}' already exists.")
    return name


def create_static_segment(
    *, session: Session, actor: Actor, name: str, description: str = ""
) -> Segment:
    authorize(actor, Permission.EDIT_DATA)
    name = _check_name(session, name, description, None)
    segment = Segment(
        name=name, description=description, kind=SegmentKind.STATIC, created_by=actor.user_id
    )
    session.add(segment)
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        action="segment.create",
        entity_type="segment",
        entity_id=segment.id,
        changes={"name": name, "kind": "static"},
    )
    return segment


def add_members(
    *,
    session: Session,
    actor: Actor,
    segment_id: int,
    customer_ids: Iterable[int],
    now: datetime,
) -> int:
    """Add live customers to a hand-picked segment. Returns how many were new to it."""
    authorize(actor, Permission.EDIT_DATA)
    segment = get_segment(session=session, segment_id=segment_id)
    if segment.kind != SegmentKind.STATIC:
        raise ValidationError("Members of a rule-based segment follow its rule.")
    ids = list(
        session.scalars(
            select(Customer.id).where(
                Customer.id.in_(list(customer_ids)), Customer.deleted_at.is_(None)
            )
        )
    )
    before = segment.member_count
    if ids:
        session.execute(
            upsert(session)(SegmentMember)
            .values([{"segment_id": segment_id, "customer_id": i, "added_at": now} for i in ids])
            .on_conflict_do_nothing()
        )
    refresh_count(session=session, segment_id=segment_id, now=now)
    added = segment.member_count - before
    audit.record(
        session=session,
        actor=actor,
        action="segment.add_members",
        entity_type="segment",
        entity_id=segment_id,
        changes={"added": added},
    )
    return added


def add_to_static_segment(
    *,
    session: Session,
    actor: Actor,
    segment_id: int | None,
    new_name: str,
    customer_ids: Iterable[int],
    now: datetime,
) -> int:
    """Add customers to the hand-picked segment `segment_id`, or to a new one named `new_name`
    when there is none yet; how many were added (as `add_members`)."""
    if segment_id is None:
        segment_id = create_static_segment(session=session, actor=actor, name=new_name).id
    return add_members(
        session=session, actor=actor, segment_id=segment_id, customer_ids=customer_ids, now=now
    )


def refresh_count(*, session: Session, segment_id: int, now: datetime) -> int:
    count = session.execute(
        select(func.count()).where(SegmentMember.segment_id == segment_id)
    ).scalar_one()
    session.execute(
        update(Segment)
        .where(Segment.id == segment_id)
        .values(member_count=count, refreshed_at=now)
        .execution_options(synchronize_session="fetch")
    )
    return count


def segments_of(*, session: Session, customer_id: int) -> list[Segment]:
    """The segments a customer belongs to, by name."""
    return list(
        session.scalars(
            select(Segment)
            .join(SegmentMember, SegmentMember.segment_id == Segment.id)
            .where(SegmentMember.customer_id == customer_id)
            .order_by(Segment.name)
        )
    )


# --- rule-based segments -------------------------------------------------------------------


def check_rules(
    *, session: Session, rules: dict[str, Any] | str, segment_id: int | None = None
) -> Group:
    """Parse a rule tree and check its segment references: they must exist and must not lead
    back to `segment_id` (a segment cannot contain itself, even through others)."""
    group = parse_rules(rules)
    known = {row.id: row for row in session.scalars(select(Segment))}
    for ref in referenced_segments(group):
        if ref not in known:
            raise ValidationError(f"The rule refers to segment #{ref}, which does not exist.")
    if segment_id is not None:
        graph = {
            sid: referenced_segments(parse_rules(s.rules)) if s.rules else set()
            for sid, s in known.items()
        }
        graph[segment_id] = referenced_segments(group)
        if _reaches(graph, segment_id, segment_id):
            name = known[segment_id].name if segment_id in known else f"#{segment_id}"
            raise ValidationError(f"The rule makes segment '{name}' depend on itself.")
    return group


def _reaches(graph: dict[int, set[int]], start: int, target: int) -> bool:
    seen: set[int] = set()
    stack = list(graph.get(start, ()))
    while stack:
        node = stack.pop()
        if node == target:
            return True
        if node not in seen:
            seen.add(node)
            stack.extend(graph.get(node, ()))
    return False


def matching(session: Session, group: Group, *, now: datetime) -> Select[int]:
    """The ids of customers a rule selects as of `now` (baseline included). Ages count by the
    store's day: at 9 p.m. in Chicago it is already tomorrow in UTC."""
    today = get_store_profile(session=session).today(now)
    return select(Customer.id).where(baseline(today), compile_rules(group, now=now, today=today))


def count_matching(*, session: Session, rules: dict[str, Any] | str, now: datetime) -> int:
    """How many customers a rule would select now (for the live count while editing)."""
    group = check_rules(session=session, rules=rules)
    return session.execute(
        select(func.count()).select_from(matching(session, group, now=now).subquery())
    ).scalar_one()


def describe_rules(*, session: Session, rules: dict[str, Any] | str) -> str:
    return describe(parse_rules(rules), names(session=session))


def create_segment(
    *,
    session: Session,
    actor: Actor,
    name: str,
    rules: dict[str, Any],
    now: datetime,
    description: str = "",
) -> Segment:
    """A rule-based segment, filled at once with who matches as of `now`."""
    authorize(actor, Permission.EDIT_DATA)
    name = _check_name(session, name, description, None)
    group = check_rules(session=session, rules=rules)
    segment = Segment(
        name=name,
        description=description,
        kind=SegmentKind.DYNAMIC,
        rules=group.model_dump(exclude_none=True),
        created_by=actor.user_id,
    )
    session.add(segment)
    session.flush()
    refresh_segment(session=session, actor=actor, segment_id=segment.id, now=now)
    audit.record(
        session=session,
        actor=actor,
        action="segment.create",
        entity_type="segment",
        entity_id=segment.id,
        changes={"name": name, "rules": segment.rules},
    )
    return segment


def save_segment(
    *,
    session: Session,
    actor: Actor,
    segment_id: int | None,
    name: str,
    description: str,
    rules: dict[str, Any] | None,
    now: datetime,
) -> Segment:
    """Create a rule-based segment (`segment_id` None; `rules` required) or update one; `rules`
    None leaves a segment's rules (or a hand-picked segment's members) as they are."""
    if segment_id is None:
        if rules is None:
            raise ValidationError("A new segment needs its rules.")
        return create_segment(
            session=session, actor=actor, name=name, description=description, rules=rules, now=now
        )
    return update_segment(
        session=session,
        actor=actor,
        segment_id=segment_id,
        name=name,
        description=description,
        rules=rules,
        now=now,
    )


def update_segment(
    *,
    session: Session,
    actor: Actor,
    segment_id: int,
    now: datetime,
    name: str | None = None,
    description: str | None = None,
    rules: dict[str, Any] | None = None,
) -> Segment:
    authorize(actor, Permission.EDIT_DATA)
    segment = get_segment(session=session, segment_id=segment_id)
    changes: dict[str, Any] = {}
    if name is not None or description is not None:
        new_description = segment.description if description is None else description
        new_name = _check_name(session, name or segment.name, new_description, segment.id)
        changes |= {"name": [segment.name, new_name]} if new_name != segment.name else {}
        segment.name, segment.description = new_name, new_description
    if rules is not None:
        if segment.kind != SegmentKind.DYNAMIC:
            raise ValidationError("A hand-picked segment has no rule to change.")
        group = check_rules(session=session, rules=rules, segment_id=segment.id)
        changes["rules"] = [segment.rules, group.model_dump(exclude_none=True)]
        segment.rules = group.model_dump(exclude_none=True)
        refresh_segment(session=session, actor=actor, segment_id=segment.id, now=now)
    audit.record(
        session=session,
        actor=actor,
        action="segment.update",
        entity_type="segment",
        entity_id=segment.id,
        changes=changes,
    )
    return segment


def delete_segment(*, session: Session, actor: Actor, segment_id: int) -> None:
    """Delete a segment no other segment's rule refers to (its members are not touched)."""
    authorize(actor, Permission.EDIT_DATA)
    segment = get_segment(session=session, segment_id=segment_id)
    users = [
        other.name
        for other in session.scalars(select(Segment).where(Segment.rules.is_not(None)))
        if other.id != segment_id
        and other.rules is not None
        and segment_id in referenced_segments(parse_rules(other.rules))
    ]
    users += [
        f"campaign “{c.name}”" for c in used_by_campaigns(session=session, segment_id=segment_id)
    ]
    if users:
        raise Conflict(f"Segment '{segment.name}' is used by: {', '.join(users)}.")
    session.execute(delete(SegmentMember).where(SegmentMember.segment_id == segment_id))
    session.delete(segment)
    audit.record(
        session=session,
        actor=actor,
        action="segment.delete",
        entity_type="segment",
        entity_id=segment_id,
        changes={"name": segment.name},
    )


def used_by_campaigns(*, session: Session, segment_id: int) -> list[Campaign]:
    """Campaigns, other than archived ones, that target or exclude a segment."""
    return [
        c
        for c in session.scalars(
            select(Campaign)
            .where(Campaign.status != CampaignStatus.ARCHIVED)
            .order_by(Campaign.name)
        )
        if segment_id in c.segment_ids or segment_id in c.excluded_segment_ids
    ]


def refresh_segment(*, session: Session, actor: Actor, segment_id: int, now: datetime) -> int:
    """Store who matches a rule-based segment as of `now`; set-based (one DELETE, one
    INSERT … SELECT)."""
    authorize(actor, Permission.EDIT_DATA)
    segment = get_segment(session=session, segment_id=segment_id)
    if segment.kind != SegmentKind.DYNAMIC:
        return refresh_count(session=session, segment_id=segment_id, now=now)
    assert segment.rules is not None  # a rule-based segment has its rule
    group = parse_rules(segment.rules)
    session.execute(delete(SegmentMember).where(SegmentMember.segment_id == segment_id))
    members = matching(session, group, now=now).subquery()
    session.execute(
        insert(SegmentMember).from_select(
            ["segment_id", "customer_id", "added_at"],
            select(literal(segment_id), members.c.id, literal(now, UTCDateTime())),
        )
    )
    return refresh_count(session=session, segment_id=segment_id, now=now)


def refresh_all(*, session: Session, actor: Actor, now: datetime) -> dict[str, int]:
    """Refresh every rule-based segment, each after the segments its rule refers to."""
    authorize(actor, Permission.EDIT_DATA)
    segments = {s.id: s for s in session.scalars(select(Segment))}
    graph = {
        sid: referenced_segments(parse_rules(s.rules)) if s.rules else set()
        for sid, s in segments.items()
    }
    done: dict[str, int] = {}
    visited: set[int] = set()

    def visit(sid: int) -> None:
        if sid in visited:
            return
        visited.add(sid)
        for ref in graph.get(sid, ()):
            visit(ref)
        if segments[sid].kind == SegmentKind.DYNAMIC:
            done[segments[sid].name] = refresh_segment(
                session=session, actor=actor, segment_id=sid, now=now
            )

    for sid in segments:
        visit(sid)
    if done:
        events.record(
            session=session,
            type="segments_refreshed",
            occurred_at=now,
            data={"segments": len(done)},
        )
    return done


def member_ids(*, session: Session, segment_id: int) -> Select[int]:
    return select(SegmentMember.customer_id).where(SegmentMember.segment_id == segment_id)


@dataclass(frozen=True)
class Overlap:
    names: list[str]
    counts: dict[tuple[bool, ...], int]
    """Customers per combination of memberships (True = in that segment), in `names` order."""

    def total(self, index: int) -> int:
        return sum(n for key, n in self.counts.items() if key[index])


def overlap(*, session: Session, segment_ids: list[int]) -> Overlap:
    """How 2 or 3 segments' members overlap, for a Venn diagram."""
    if not 2 <= len(segment_ids) <= 3:
        raise ValidationError("Pick two or three segments to compare.")
    segments = [get_segment(session=session, segment_id=i) for i in segment_ids]
    flags = [
        func.max(case((SegmentMember.segment_id == i, 1), else_=0)).label(f"s{n}")
        for n, i in enumerate(segment_ids)
    ]
    per_customer = (
        select(SegmentMember.customer_id, *flags)
        .where(SegmentMember.segment_id.in_(segment_ids))
        .group_by(SegmentMember.customer_id)
        .subquery()
    )
    columns = [per_customer.c[f"s{n}"] for n in range(len(segment_ids))]
    rows = session.execute(select(*columns, func.count()).group_by(*columns)).all()
    counts = {tuple(bool(v) for v in row[:-1]): int(row[-1]) for row in rows}
    return Overlap([s.name for s in segments], counts)
