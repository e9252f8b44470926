from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, BigIntPK, StrEnumType, utc_now


class SegmentKind(StrEnum):
    STATIC = "static"
    """A hand-picked list: members are added and removed by people."""
    DYNAMIC = "dynamic"
    """A rule: members are whoever matches it at the last refresh."""


class Segment(Base):
    """A named group of customers: a hand-picked list (static) or a rule kept up to date."""

    __tablename__ = "segments"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[SegmentKind] = mapped_column(
        StrEnumType(SegmentKind, 20), default=SegmentKind.STATIC
    )
    rules: Mapped[dict[str, Any] | None]
    member_count: Mapped[int] = mapped_column(default=0)
    refreshed_at: Mapped[datetime | None]
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)


class SegmentMember(Base):
    __tablename__ = "segment_members"

    segment_id: Mapped[int] = mapped_column(
        ForeignKey("segments.id", ondelete="CASCADE"), primary_key=True
    )
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    added_at: Mapped[datetime] = mapped_column(default=utc_now)
