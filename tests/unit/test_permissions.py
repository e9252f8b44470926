import pytest

from core.errors import PermissionDenied
from core.permissions import ROLE_PERMISSIONS, SYSTEM, Actor, Permission, Role, authorize


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (Role.VIEWER, {Permission.VIEW}),
        (
            Role.MARKETER,
            {
                Permission.VIEW,
                Permission.EDIT_DATA,
                Permission.RUN_CAMPAIGNS,
                Permission.EXPORT_DATA,
            },
        ),
        (Role.ADMIN, set(Permission)),
    ],
)
def test_each_role_has_exactly_its_permissions(role: Role, allowed: set[Permission]) -> None:
    actor = Actor(user_id=1, email="x@example.com", role=role)
    for permission in Permission:
        assert actor.can(permission) is (permission in allowed)
    assert ROLE_PERMISSIONS[role] == allowed


def test_authorize_names_who_and_what() -> None:
    viewer = Actor(user_id=7, email="v@example.com", role=Role.VIEWER)
    with pytest.raises(PermissionDenied, match=r"v@example.com \(viewer\).*edit data"):
        authorize(viewer, Permission.EDIT_DATA)
    authorize(viewer, Permission.VIEW)
    authorize(SYSTEM, Permission.MANAGE_USERS)
