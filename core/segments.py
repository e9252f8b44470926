"""Segments: named groups of customers. This module holds the parts every segment shares
(listing, members, hand-picked lists); rule-based segments build on it."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from core import audit
from core.db import upsert, utc_now
from core.errors import Conflict, NotFound, ValidationError
from core.models import Customer, Segment, SegmentMember
from core.permissions import Actor, Permission, authorize


class SegmentKind(StrEnum):
    STATIC = "static"
    """A hand-picked list: members are added and removed by people."""
    DYNAMIC = "dynamic"
    """A rule: members are whoever matches it at the last refresh."""


def list_segments(*, session: Session) -> list[Segment]:
    return list(session.scalars(select(Segment).order_by(Segment.name)))


def get_segment(*, session: Session, segment_id: int) -> Segment:
    segment = session.get(Segment, segment_id)
    if segment is None:
        raise NotFound(f"There is no segment #{segment_id}.")
    return segment


def create_static_segment(
    *, session: Session, actor: Actor, name: str, description: str = ""
) -> Segment:
    authorize(actor, Permission.EDIT_DATA)
    name = name.strip()
    if not name:
        raise ValidationError("A segment needs a name.", field="name")
    if session.scalar(select(Segment.id).where(func.lower(Segment.name) == name.lower())):
        raise Conflict(f"A segment named '{name}' already exists.")
    segment = Segment(
        name=name, description=description, kind=SegmentKind.STATIC, created_by=actor.user_id
    )
    session.add(segment)
    session.flush()
    audit.record(
        session=session, actor=actor, action="segment.create", entity_type="segment",
        entity_id=segment.id, changes={"name": name, "kind": "static"},
    )  # fmt: skip
    return segment


def add_members(
    *, session: Session, actor: Actor, segment_id: int, customer_ids: Iterable[int]
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
        now = utc_now()
        session.execute(
            upsert(session)(SegmentMember)
            .values([{"segment_id": segment_id, "customer_id": i, "added_at": now} for i in ids])
            .on_conflict_do_nothing()
        )
    refresh_count(session=session, segment_id=segment_id)
    added = segment.member_count - before
    audit.record(
        session=session, actor=actor, action="segment.add_members", entity_type="segment",
        entity_id=segment_id, changes={"added": added},
    )  # fmt: skip
    return added


def refresh_count(*, session: Session, segment_id: int) -> int:
    count = session.scalar(select(func.count()).where(SegmentMember.segment_id == segment_id))
    session.execute(
        update(Segment)
        .where(Segment.id == segment_id)
        .values(member_count=count, refreshed_at=utc_now())
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
