from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, BigIntPK, StrEnumType, utc_now


class ImportKind(StrEnum):
    CUSTOMERS = "customers"
    ORDERS = "orders"


class ImportStatus(StrEnum):
    READY = "ready"
    """Uploaded and mapped, not started."""
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class Import(Base):
    """A file being loaded. `checkpoint_row` is the last file row whose batch committed, so a
    restarted import carries on after it without loading anything twice."""

    __tablename__ = "imports"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[ImportKind] = mapped_column(StrEnumType(ImportKind, 20))
    filename: Mapped[str] = mapped_column(String(255))
    stored_path: Mapped[str] = mapped_column(String(500))
    file_size: Mapped[int] = mapped_column(default=0)
    encoding: Mapped[str] = mapped_column(String(20), default="utf-8")
    delimiter: Mapped[str] = mapped_column(String(2), default=",")
    header: Mapped[list[Any]] = mapped_column(default=list)
    header_row: Mapped[int] = mapped_column(default=1)
    mapping: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """Our field name → the file's column header."""
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[ImportStatus] = mapped_column(
        StrEnumType(ImportStatus, 20), default=ImportStatus.READY, index=True
    )
    total_rows: Mapped[int | None]
    processed_rows: Mapped[int] = mapped_column(default=0)
    checkpoint_row: Mapped[int] = mapped_column(default=0)
    inserted: Mapped[int] = mapped_column(default=0)
    updated: Mapped[int] = mapped_column(default=0)
    skipped: Mapped[int] = mapped_column(default=0)
    failed: Mapped[int] = mapped_column(default=0)
    warnings: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text)
    """Why the whole file could not be loaded, when it could not."""
    job_id: Mapped[str | None] = mapped_column(String(36))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utc_now, index=True)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class ImportProblem(Base):
    """A row that failed (or was loaded with a warning), with the field and the reason."""

    __tablename__ = "import_errors"
    __table_args__ = (Index("ix_import_errors_import_id_row_number", "import_id", "row_number"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    import_id: Mapped[str] = mapped_column(ForeignKey("imports.id", ondelete="CASCADE"))
    row_number: Mapped[int]
    field: Mapped[str] = mapped_column(String(60), default="")
    value: Mapped[str] = mapped_column(String(200), default="")
    message: Mapped[str] = mapped_column(String(300))
    severity: Mapped[str] = mapped_column(String(10), default="error")
    who: Mapped[str] = mapped_column(String(120), default="", server_default="")
    """Whom the row is about, in the file's words: a name, email, phone or ID."""
