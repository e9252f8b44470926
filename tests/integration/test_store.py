import pytest
from sqlalchemy.orm import Session

from core.errors import PermissionDenied, ValidationError
from core.permissions import SYSTEM, Actor, Role
from core.store_profile import get_store_profile, update_store_profile


@pytest.mark.both_databases
def test_profile_starts_from_settings_and_saves_edits(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    profile = get_store_profile(session=session)
    assert profile.name == "Last Call Liquor"
    assert not profile.is_complete
    updated = update_store_profile(
        session=session,
        actor=SYSTEM,
        name="Corner Cellar",
        address="1200 N Milwaukee Ave",
        city="Chicago",
        state="il",
        zip="60622",
    )
    assert updated.state == "IL" and updated.is_complete
    assert (
        get_store_profile(session=session).postal_address
        == "1200 N Milwaukee Ave, Chicago, IL 60622"
    )


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"timezone": "Mars/Olympus"}, "unknown time zone"),
        ({"state": "Illinois"}, "two-letter"),
        ({"name": "  "}, "needs a name"),
        ({"colour": "red"}, "Unknown store fields"),
    ],
)
def test_bad_profile_values_are_refused(session: Session, fields: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        update_store_profile(session=session, actor=SYSTEM, **fields)


@pytest.mark.both_databases
def test_only_admins_edit_the_store(session: Session) -> None:
    marketer = Actor(user_id=None, email="m@example.com", role=Role.MARKETER)
    with pytest.raises(PermissionDenied):
        update_store_profile(session=session, actor=marketer, name="Mine")
