"""Roles and what each may do. Every core function that changes data calls `authorize` first,
so a viewer cannot change anything even by calling core directly."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from core.errors import PermissionDenied


class Role(StrEnum):
    ADMIN = "admin"
    MARKETER = "marketer"
    VIEWER = "viewer"


class Permission(StrEnum):
    VIEW = "view"
    """Read dashboards, customers, campaigns and analytics."""
    EDIT_DATA = "edit_data"
    """Import, edit and delete customers and orders; build segments."""
    RUN_CAMPAIGNS = "run_campaigns"
    """Create, schedule and send campaigns."""
    EXPORT_DATA = "export_data"
    """Download customers' personal data (birth dates, phones, addresses) as CSV."""
    ERASE_DATA = "erase_data"
    """Erase a customer's personal data at their request (it cannot be undone)."""
    MANAGE_USERS = "manage_users"
    MANAGE_SETTINGS = "manage_settings"


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.VIEWER: frozenset({Permission.VIEW}),
    Role.MARKETER: frozenset(
        {Permission.VIEW, Permission.EDIT_DATA, Permission.RUN_CAMPAIGNS, Permission.EXPORT_DATA}
    ),
    Role.ADMIN: frozenset(Permission),
}

ROLE_DESCRIPTIONS: dict[Role, str] = {
    Role.ADMIN: "Everything, including users and store settings",
    Role.MARKETER: "Customers, imports, segments and campaigns",
    Role.VIEWER: "Read-only dashboards and reports",
}


@dataclass(frozen=True)
class Actor:
    """Who is asking: a signed-in user, or the system itself (CLI, scheduled jobs)."""

    user_id: int | None
    email: str
    role: Role

    def can(self, permission: Permission) -> bool:
        return permission in ROLE_PERMISSIONS[self.role]


SYSTEM = Actor(user_id=None, email="system", role=Role.ADMIN)


def authorize(actor: Actor, permission: Permission) -> None:
    if not actor.can(permission):
        raise PermissionDenied(
            f"{actor.email} ({actor.role}) is not allowed to {permission.replace('_', ' ')}"
        )
