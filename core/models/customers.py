from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    and_,
    func,
    text,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, BigIntPK, StrEnumType, utc_now


class Channel(StrEnum):
    """How a customer is reached; consent is recorded per channel."""

    EMAIL = "email"
    SMS = "sms"


class ContactStatus(StrEnum):
    """Whether a customer's address on a channel may still get marketing. The suppression list
    (by address, whoever holds it) decides; this mirrors it for the customers who hold it."""

    ACTIVE = "active"
    SUPPRESSED = "suppressed"


class Customer(Base):
    """A shopper. Soft-deleted rows keep `deleted_at` and are hidden from lists and sends."""

    __tablename__ = "customers"
    __table_args__ = (
        # Search is by prefix of these (core.customers); every index slows imports, so few.
        Index("ix_customers_first_name_lower", func.lower(text("first_name"))),
        Index("ix_customers_last_name_lower", func.lower(text("last_name"))),
    )

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
    email_status: Mapped[ContactStatus] = mapped_column(
        StrEnumType(ContactStatus, 20), default=ContactStatus.ACTIVE
    )
    sms_opt_in: Mapped[bool] = mapped_column(default=False)
    sms_opt_in_at: Mapped[datetime | None]
    sms_consent_source: Mapped[str | None] = mapped_column(String(40))
    sms_status: Mapped[ContactStatus] = mapped_column(
        StrEnumType(ContactStatus, 20), default=ContactStatus.ACTIVE
    )

    order_count: Mapped[int] = mapped_column(default=0)
    total_spent_cents: Mapped[int] = mapped_column(BigInteger, default=0, index=True)
    first_order_at: Mapped[datetime | None] = mapped_column(index=True)
    last_order_at: Mapped[datetime | None] = mapped_column(index=True)

    # Scores, filled by core.scoring; None means "not scored yet".
    r_score: Mapped[int | None] = mapped_column(SmallInteger)
    f_score: Mapped[int | None] = mapped_column(SmallInteger)
    m_score: Mapped[int | None] = mapped_column(SmallInteger)
    rfm_segment: Mapped[str | None] = mapped_column(String(30))
    p_alive: Mapped[float | None]
    churn_risk: Mapped[str | None] = mapped_column(String(10))
    """low / medium / high, from 1 − P(alive)."""
    expected_orders: Mapped[float | None]
    predicted_clv_cents: Mapped[int | None] = mapped_column(BigInteger)
    preferred_category: Mapped[str | None] = mapped_column(String(20))
    average_order_cents: Mapped[int | None] = mapped_column(BigInteger)
    days_between_orders: Mapped[float | None]
    next_order_expected_on: Mapped[date | None]
    scored_at: Mapped[datetime | None]

    source: Mapped[str] = mapped_column(String(20), default="manual")
    created_at: Mapped[datetime] = mapped_column(default=utc_now, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)
    deleted_at: Mapped[datetime | None]
    erased_at: Mapped[datetime | None]
    """Erased at the person's request: personal data gone, the row kept for its orders' sake."""
    version: Mapped[int] = mapped_column(default=1, server_default=text("1"))
    """Counts changes: an edit made from an older version is refused, not silently undone
    (SQLAlchemy checks it on every UPDATE; imports bump it too)."""

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's own attribute

    @hybrid_property
    def can_email(self) -> bool:
        """Opted in to email, with an address the suppression list has not closed. Compliance
        adds the rest (21+, not deleted) in core.compliance.reachable and decide."""
        return bool(self.email and self.email_opt_in and self.email_status == ContactStatus.ACTIVE)

    @can_email.inplace.expression
    @classmethod
    def _can_email_expression(cls) -> ColumnElement[bool]:
        return and_(
            cls.email.is_not(None),
            cls.email_opt_in.is_(True),
            cls.email_status == ContactStatus.ACTIVE,
        )

    @hybrid_property
    def can_text(self) -> bool:
        """Opted in to texts, with a number the suppression list has not closed."""
        return bool(self.phone and self.sms_opt_in and self.sms_status == ContactStatus.ACTIVE)

    @can_text.inplace.expression
    @classmethod
    def _can_text_expression(cls) -> ColumnElement[bool]:
        return and_(
            cls.phone.is_not(None),
            cls.sms_opt_in.is_(True),
            cls.sms_status == ContactStatus.ACTIVE,
        )

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class ConsentRecord(Base):
    """One consent decision, append-only: who agreed (or withdrew) to what, when, and how."""

    __tablename__ = "consent_log"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL"), index=True
    )
    channel: Mapped[Channel] = mapped_column(StrEnumType(Channel, 10))
    granted: Mapped[bool]
    address: Mapped[str | None] = mapped_column(String(254))
    """The email address or phone number the decision is about."""
    source: Mapped[str] = mapped_column(String(40))
    """import, manual, demo, web form, sms keyword…"""
    recorded_at: Mapped[datetime] = mapped_column(default=utc_now)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    import_id: Mapped[str | None] = mapped_column(String(36))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """Disclosure text and version, IP and user agent, keyword: whatever proves the decision."""


class SmsSignup(Base):
    """A number part-way through signing up for texts by keyword (double opt-in): it has
    texted the keyword and, once its date of birth shows 21+, must still reply Y."""

    __tablename__ = "sms_signups"

    number: Mapped[str] = mapped_column(String(20), primary_key=True)
    """E.164, as the provider reports it."""
    stage: Mapped[str] = mapped_column(String(12))
    """`birth_date` (waiting for it) or `confirm` (waiting for Y)."""
    keyword: Mapped[str] = mapped_column(String(40))
    birth_date: Mapped[date | None]
    started_at: Mapped[datetime] = mapped_column(default=utc_now)
