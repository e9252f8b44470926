from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, BigIntPK, StrEnumType, utc_now


class Category(StrEnum):
    WINE = "wine"
    BEER = "beer"
    SPIRITS = "spirits"
    MIXERS = "mixers"
    ACCESSORIES = "accessories"
    OTHER = "other"


class Product(Base):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[Category] = mapped_column(StrEnumType(Category, 20), index=True)
    subcategory: Mapped[str] = mapped_column(String(60), default="")
    price_cents: Mapped[int]
    cost_cents: Mapped[int | None]
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
