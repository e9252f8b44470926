from datetime import date

import pytest

from core import contacts
from core.errors import ValidationError


def test_normalize_email_and_phone() -> None:
    assert contacts.normalize_email(" Ana@Example.COM ") == "ana@example.com"
    assert contacts.normalize_phone("(312) 555-0123") == "+13125550123"
    with pytest.raises(ValidationError) as error:
        contacts.normalize_email("ana@")
    assert error.value.field == "email"
    with pytest.raises(ValidationError) as error:
        contacts.normalize_phone("555-0123")
    assert error.value.field == "phone"


def test_states_and_zips() -> None:
    assert contacts.normalize_state("illinois") == "IL" and contacts.normalize_state("") == ""
    assert contacts.normalize_zip("2134") == "02134"
    assert contacts.normalize_zip("60622-1234") == "60622"
    with pytest.raises(ValidationError):
        contacts.normalize_state("Gondor")
    with pytest.raises(ValidationError):
        contacts.normalize_zip("ABCDE")


def test_age_turns_over_on_the_birthday() -> None:
    born = date(2005, 11, 26)
    assert contacts.age_on(born, date(2026, 11, 25)) == 20
    assert contacts.age_on(born, date(2026, 11, 26)) == 21
    assert not contacts.is_adult(born, date(2026, 11, 25))
    assert contacts.is_adult(born, date(2026, 11, 26))
    assert not contacts.is_adult(None, date(2026, 11, 26))
    leap = date(2004, 2, 29)
    assert contacts.age_on(leap, date(2025, 2, 28)) == 20
    assert contacts.age_on(leap, date(2025, 3, 1)) == 21


@pytest.mark.parametrize(
    ("zip_code", "state", "phone", "zone"),
    [
        ("60622", "", None, "America/Chicago"),
        ("32501", "FL", None, "America/Chicago"),
        ("33139", "", None, "America/New_York"),
        ("83814", "", None, "America/Los_Angeles"),  # Coeur d'Alene, northern Idaho
        ("", "AZ", None, "America/Phoenix"),
        ("", "", "+12065550123", "America/Los_Angeles"),
        ("", "", None, None),
    ],
)
def test_timezone_for(zip_code: str, state: str, phone: str | None, zone: str | None) -> None:
    assert contacts.timezone_for(zip_code=zip_code, state=state, phone=phone) == zone
