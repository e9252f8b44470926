"""Every core function that changes data asks `authorize` itself, so no page, script or
future route can skip the role check by calling core directly."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import compliance, segments
from core.errors import PermissionDenied
from core.messaging.template_defaults import install_default_templates
from core.models import Template
from core.permissions import Actor, Role
from tests.moments import NOW

VIEWER = Actor(user_id=None, email="viewer@example.com", role=Role.VIEWER)
MARKETER = Actor(user_id=None, email="marketer@example.com", role=Role.MARKETER)

CHANGES: dict[str, tuple[Actor, Callable[[Session, Actor], Any]]] = {
    "refresh_segment": (
        VIEWER,
        lambda s, a: segments.refresh_segment(session=s, actor=a, segment_id=1, now=NOW),
    ),
    "refresh_all": (VIEWER, lambda s, a: segments.refresh_all(session=s, actor=a, now=NOW)),
    "install_default_templates": (
        VIEWER,
        lambda s, a: install_default_templates(session=s, actor=a),
    ),
    "save_policy": (
        MARKETER,
        lambda s, a: compliance.save_policy(session=s, actor=a, policy=compliance.Policy()),
    ),
}


@pytest.mark.both_databases
@pytest.mark.parametrize("change", list(CHANGES))
def test_changes_refuse_roles_without_the_permission(session: Session, change: str) -> None:
    actor, call = CHANGES[change]
    with pytest.raises(PermissionDenied):
        call(session, actor)
    assert session.scalar(select(func.count()).select_from(Template)) == 0


def test_marketers_may_install_the_default_templates(session: Session) -> None:
    assert install_default_templates(session=session, actor=MARKETER) == 9
