"""A store setting kept as one pydantic model in a `settings` row, read with its defaults when
nobody saved it yet."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.infra import audit
from core.models import Setting
from core.permissions import Actor, Permission, authorize

M = TypeVar("M", bound=BaseModel)


def read_setting(session: Session, key: str, model: type[M]) -> M:
    row = session.get(Setting, key)
    return model.model_validate(row.value) if row else model()


def write_setting(session: Session, key: str, value: BaseModel) -> dict[str, Any]:
    """Save `value` under `key`; returns what was stored (JSON-ready)."""
    stored = value.model_dump(mode="json")
    row = session.get(Setting, key)
    if row is None:
        session.add(Setting(key=key, value=stored))
    else:
        row.value = stored
    return stored


def save_setting(*, session: Session, actor: Actor, key: str, value: BaseModel) -> None:
    """Save a store setting edited by `actor` (who must manage settings), in the audit log as
    `{key}.settings` with what was stored."""
    authorize(actor, Permission.MANAGE_SETTINGS)
    audit.record(
        session=session,
        actor=actor,
        action=f"{key}.settings",
        entity_type="setting",
        changes=write_setting(session, key, value),
    )


def claim(
    session: Session,
    key: str,
    value: dict[str, Any],
    *,
    due: Callable[[dict[str, Any]], bool],
) -> bool:
    """Lock the `key` row and, when `due(what it holds)` (`{}` before the first claim), store
    `value` there. Whether it claimed: of two clocks ticking at once, one claims and the other
    waits on the lock and finds the work taken."""
    row = session.scalar(select(Setting).where(Setting.key == key).with_for_update())
    if not due(row.value if row is not None else {}):
        return False
    if row is None:
        session.add(Setting(key=key, value=value))
    else:
        row.value = value
    session.flush()
    return True
