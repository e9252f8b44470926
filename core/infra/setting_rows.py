"""A store setting kept as one pydantic model in a `settings` row, read with its defaults when
nobody saved it yet."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy.orm import Session

from core.models import Setting

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
