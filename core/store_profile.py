"""The store's own profile, kept in the settings table.

The profile (name, postal address, time zone, contact) starts from Settings and is edited on the
Store page; marketing law needs it in every message footer.
"""

from __future__ import annotations

import functools
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from pydantic import BaseModel, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.config import get_settings
from core.errors import ValidationError
from core.infra import audit
from core.models import Setting
from core.permissions import Actor, Permission, authorize

STORE_PROFILE_KEY = "store_profile"


@functools.cache
def time_zone_names() -> frozenset[str]:
    """Every IANA zone name this machine knows (read from disk once: it lists hundreds of files)."""
    return frozenset(available_timezones())


def us_time_zones() -> list[str]:
    """The zones a US store can be in, for a picker."""
    return sorted(
        zone for zone in time_zone_names() if zone.startswith(("America/", "Pacific/Honolulu"))
    )


class StoreProfile(BaseModel):
    name: str
    address: str = ""
    city: str = ""
    state: str = ""
    zip: str = ""
    phone: str = ""
    email: str = ""
    timezone: str = "America/Chicago"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if value not in time_zone_names():
            raise ValueError(f"unknown time zone '{value}' (use an IANA name like America/Chicago)")
        return value

    @field_validator("state")
    @classmethod
    def _state_code(cls, value: str) -> str:
        value = value.strip().upper()
        if value and (len(value) != 2 or not value.isalpha()):
            raise ValueError("use the two-letter state code, e.g. IL")
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def today(self, now: datetime) -> date:
        """The store's date at `now` (9 p.m. in Chicago is already tomorrow in UTC): the day
        ages are counted by."""
        return now.astimezone(self.zone).date()

    @property
    def postal_address(self) -> str:
        """One line for a message footer; empty parts are left out."""
        locality = " ".join(part for part in (self.state, self.zip) if part)
        return ", ".join(part for part in (self.address, self.city, locality) if part)

    @property
    def is_complete(self) -> bool:
        """CAN-SPAM needs a physical postal address before any marketing email goes out."""
        return bool(self.name and self.address and self.city and self.state and self.zip)


def _defaults() -> dict[str, Any]:
    s = get_settings()
    return {
        "name": s.store_name,
        "address": s.store_address,
        "city": s.store_city,
        "state": s.store_state,
        "zip": s.store_zip,
        "phone": s.store_phone,
        "email": s.store_email,
        "timezone": s.store_timezone,
    }


def get_store_profile(*, session: Session) -> StoreProfile:
    stored = session.get(Setting, STORE_PROFILE_KEY)
    return StoreProfile(**(_defaults() | (stored.value if stored else {})))


def update_store_profile(*, session: Session, actor: Actor, **fields: Any) -> StoreProfile:
    authorize(actor, Permission.MANAGE_SETTINGS)
    current = get_store_profile(session=session)
    unknown = set(fields) - set(StoreProfile.model_fields)
    if unknown:
        raise ValidationError(f"Unknown store fields: {', '.join(sorted(unknown))}")
    try:
        profile = StoreProfile(**(current.model_dump() | fields))
    except ValueError as exc:
        raise ValidationError(_first_error(exc)) from exc
    if not profile.name.strip():
        raise ValidationError("The store needs a name.", field="name")
    _put(session, STORE_PROFILE_KEY, profile.model_dump())
    changed = {k: v for k, v in profile.model_dump().items() if current.model_dump()[k] != v}
    audit.record(
        session=session,
        actor=actor,
        action="store.update",
        entity_type="store",
        changes=changed,
    )
    return profile


def fill_in_profile(*, session: Session, fields: dict[str, str]) -> None:
    """Fill the profile's blank fields from `fields` (the demo store's address); what the store
    typed itself is never overwritten."""
    current = get_store_profile(session=session).model_dump()
    blanks = {key: value for key, value in fields.items() if not current.get(key)}
    if blanks:
        stored = session.get(Setting, STORE_PROFILE_KEY)
        _put(session, STORE_PROFILE_KEY, (stored.value if stored else {}) | blanks)


def _put(session: Session, key: str, value: dict[str, Any]) -> Setting:
    setting = session.scalar(select(Setting).where(Setting.key == key).with_for_update())
    if setting is None:
        setting = Setting(key=key, value=value)
        session.add(setting)
    else:
        setting.value = value
    session.flush()
    return setting


def _first_error(exc: ValueError) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        first = errors()[0]
        return f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
    return str(exc)
