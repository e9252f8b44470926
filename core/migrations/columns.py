"""Column shorthands shared by the migrations. Keep them stable: old revisions use them too."""

from __future__ import annotations

import sqlalchemy as sa

from core.db import BigIntPK, UTCDateTime


def id_column() -> sa.Column:
    return sa.Column("id", BigIntPK, primary_key=True)


def timestamp(name: str, nullable: bool = False, index: bool = False) -> sa.Column:
    return sa.Column(name, UTCDateTime(), nullable=nullable, index=index)


def foreign_key(
    name: str, target: str, ondelete: str, nullable: bool = True, index: bool = False
) -> sa.Column:
    return sa.Column(
        name, BigIntPK, sa.ForeignKey(target, ondelete=ondelete), nullable=nullable, index=index
    )
