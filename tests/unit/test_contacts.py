from datetime import date
from pathlib import Path

import pandas as pd
import pytest
import zipcodes

from core.compliance import age
from core.config import get_settings
from core.customers import contact_details, zip_codes
from core.errors import ValidationError


def test_normalize_email_and_phone() -> None:
    assert contact_details.normalize_email(" Ana@Example.COM ") == "ana@example.com"
    assert contact_details.normalize_phone("(312) 555-0123") == "+13125550123"
    with pytest.raises(ValidationError) as error:
        contact_details.normalize_email("ana@")
    assert error.value.field == "email"
    with pytest.raises(ValidationError) as error:
        contact_details.normalize_phone("555-0123")
    assert error.value.field == "phone"


def test_states_and_zips() -> None:
    assert (
        contact_details.normalize_state("illinois") == "IL"
        and contact_details.normalize_state("") == ""
    )
    assert contact_details.normalize_zip("2134") == "02134"
    assert contact_details.normalize_zip("60622-1234") == "60622"
    with pytest.raises(ValidationError):
        contact_details.normalize_state("Gondor")
    with pytest.raises(ValidationError):
        contact_details.normalize_zip("ABCDE")


def test_age_turns_over_on_the_birthday() -> None:
    born = date(2005, 11, 26)
    assert age.age_on(born, date(2026, 11, 25)) == 20
    assert age.age_on(born, date(2026, 11, 26)) == 21
    assert not age.is_adult(born, date(2026, 11, 25))
    assert age.is_adult(born, date(2026, 11, 26))
    assert not age.is_adult(None, date(2026, 11, 26))
    leap = date(2004, 2, 29)
    assert age.age_on(leap, date(2025, 2, 28)) == 20
    assert age.age_on(leap, date(2025, 3, 1)) == 21


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
    assert contact_details.timezone_for(zip_code=zip_code, state=state, phone=phone) == zone


def test_the_zip_table_is_kept_for_the_next_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Built once from the package (2 s), then read from the install's files; a damaged copy
    is built again, not trusted."""
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    zip_codes.zip_places.cache_clear()
    built = zip_codes.zip_places()
    kept = next((tmp_path / "cache").glob("zip-places-*.parquet"))
    zip_codes.zip_places.cache_clear()
    monkeypatch.setattr(zipcodes, "list_all", lambda: pytest.fail("built again"))
    pd.testing.assert_frame_equal(zip_codes.zip_places(), built)
    monkeypatch.undo()
    kept.write_bytes(b"not parquet")
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    zip_codes.zip_places.cache_clear()
    pd.testing.assert_frame_equal(zip_codes.zip_places(), built)
    assert zip_codes.place_of("60622") == ("Chicago", "IL", "America/Chicago")
    get_settings.cache_clear()
    zip_codes.zip_places.cache_clear()
