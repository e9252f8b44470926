from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, BigIntPK, utc_now


class Customer(Base):
    """A shopper. Soft-deleted rows keep `deleted_at` and are hidden from lists and sends."""

    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    """E.164, e.g. +13125550123."""
    first_name: Mapped[str] = mapped_column(String(100), default="")
    last_name: Mapped[str] = mapped_column(String(100), default="")
    birth_date: Mapped[date | None]
    age_verified: Mapped[bool] = mapped_column(default=False)
    address: Mapped[str] = mapped_column(String(200), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    state: Mapped[str] = mapped_column(String(2), default="")
    zip: Mapped[str] = mapped_column(String(10), default="", index=True)
    timezone: Mapped[str | None] = mapped_column(String(64))
    """IANA zone used for quiet hours and send times; derived from ZIP/state when not given."""

    email_opt_in: Mapped[bool] = mapped_column(default=False)
    email_opt_in_at: Mapped[datetime | None]
    email_consent_source: Mapped[str | None] = mapped_column(String(40))
    email_status: Mapped[str] = mapped_column(String(20), default="active")
    sms_opt_in: Mapped[bool] = mapped_column(default=False)
    sms_opt_in_at: Mapped[datetime | None]
    sms_consent_source: Mapped[str | None] = mapped_column(String(40))
    sms_status: Mapped[str] = mapped_column(String(20), default="active")

    order_count: Mapped[int] = mapped_column(default=0)
    total_spent_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    first_order_at: Mapped[datetime | None]
    last_order_at: Mapped[datetime | None] = mapped_column(index=True)

    source: Mapped[str] = mapped_column(String(20), default="manual")
    created_at: Mapped[datetime] = mapped_column(default=utc_now, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)
    deleted_at: Mapped[datetime | None]
