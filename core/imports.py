"""Imports of customers and orders from point-of-sale exports (CSV or Excel).

The flow: store the upload → `prepare_import` reads its shape and suggests a column mapping →
the user corrects it → `run_import` (in a job) streams the file in batches. Each batch is
cleaned in pandas, loaded through a staging table and upserted in SQL, in one transaction that
also records its problem rows and advances the import's checkpoint. A killed import therefore
restarts after its last committed batch and never loads a row twice.
"""

from __future__ import annotations

import io
import logging
import re
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol

import pandas as pd
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from core import audit, events
from core.config import DATA_DIR
from core.db import UnitOfWork
from core.errors import NotFound, ValidationError
from core.files import (
    EXCEL_MAGIC,
    FileShape,
    UnusableFile,
    estimate_rows,
    inspect_file,
    read_batches,
)
from core.models import Import, ImportKind, ImportProblem, ImportStatus
from core.permissions import Actor, Permission, authorize
from core.store import get_store_profile

log = logging.getLogger(__name__)

UPLOAD_DIR = DATA_DIR / "uploads"
CHUNK_ROWS = 50_000
"""Rows per batch and transaction: big enough for set-based speed, small enough that a SQLite
reader waits at most a moment and memory stays bounded."""
SAMPLE_ROWS = 1000

Progress = Callable[[int, str], None]


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    synonyms: tuple[str, ...]
    """Header names (normalised: lowercase words) that mean this field."""
    help: str = ""


CUSTOMER_FIELDS = (
    Field("external_id", "Customer ID", ("customer id", "customer number", "customer no",
          "cust id", "cust number", "id", "account", "account number", "member id",
          "loyalty id", "loyalty number", "card number", "customer code")),
    Field("first_name", "First name", ("first name", "first", "fname", "given name")),
    Field("last_name", "Last name", ("last name", "last", "lname", "surname", "family name")),
    Field("full_name", "Full name", ("name", "full name", "customer name", "customer"),
          "Split into first and last name when those columns are absent."),
    Field("email", "Email", ("email", "e mail", "email address", "e mail address", "mail")),
    Field("phone", "Phone", ("phone", "cell", "mobile", "phone number", "cell phone",
          "mobile phone", "mobile number", "cell number", "telephone", "tel", "sms number")),
    Field("birth_date", "Date of birth", ("dob", "birth date", "birthday", "date of birth",
          "birthdate", "d o b")),
    Field("age_verified", "ID checked", ("age verified", "id checked", "id verified",
          "verified")),
    Field("address", "Street address", ("address", "street", "address 1", "address1",
          "street address", "address line 1")),
    Field("city", "City", ("city", "town")),
    Field("state", "State", ("state", "st", "province", "region", "state code")),
    Field("zip", "ZIP code", ("zip", "zip code", "zipcode", "postal code", "postcode",
          "postal")),
    Field("email_opt_in", "Email consent", ("email opt in", "email consent", "email optin",
          "email subscribed", "accepts email marketing", "accepts marketing", "newsletter",
          "marketing email", "email marketing")),
    Field("sms_opt_in", "SMS consent", ("sms opt in", "sms consent", "text opt in",
          "sms optin", "accepts sms marketing", "sms marketing", "text messages", "sms")),
    Field("customer_since", "Customer since", ("customer since", "created", "created at",
          "signup date", "sign up date", "join date", "date joined", "member since",
          "first visit")),
)  # fmt: skip

ORDER_FIELDS = (
    Field("order_id", "Order ID", ("order id", "order number", "order no", "order",
          "transaction id", "transaction number", "transaction", "receipt", "receipt number",
          "ticket", "ticket number", "invoice", "invoice number", "sale id", "id")),
    Field("customer_id", "Customer ID", ("customer id", "customer number", "customer no",
          "cust id", "account", "account number", "member id", "loyalty id", "card number",
          "customer")),
    Field("customer_email", "Customer email", ("email", "customer email", "e mail",
          "email address")),
    Field("customer_phone", "Customer phone", ("phone", "customer phone", "cell", "mobile",
          "phone number")),
    Field("ordered_at", "Order date", ("date", "order date", "ordered at", "order time",
          "transaction date", "sale date", "date time", "datetime", "created at", "time",
          "timestamp")),
    Field("total", "Order total", ("order total", "total", "amount", "grand total",
          "net sales", "sale amount", "total amount", "net total")),
    Field("discount", "Discount", ("discount", "discount amount", "discounts", "promo")),
    Field("channel", "Channel", ("channel", "sales channel", "source", "order type")),
    Field("sku", "SKU", ("sku", "item sku", "product sku", "upc", "item code", "plu",
          "product code", "item number")),
    Field("product_name", "Product", ("item", "product", "product name", "item name",
          "description", "item description")),
    Field("category", "Category", ("category", "department", "dept", "product type",
          "item category", "class")),
    Field("quantity", "Quantity", ("qty", "quantity", "units", "qty sold")),
    Field("unit_price", "Unit price", ("price", "unit price", "item price", "retail price")),
    Field("line_total", "Line total", ("line total", "extended price", "item total",
          "ext price", "line amount")),
)  # fmt: skip

FIELDS = {ImportKind.CUSTOMERS: CUSTOMER_FIELDS, ImportKind.ORDERS: ORDER_FIELDS}


def normalize_header(name: str) -> str:
    """'Customer #' → 'customer number', 'E-mail' → 'e mail', 'Zip_Code' → 'zip code'."""
    name = name.lower().replace("#", " number ").replace("no.", "number")
    name = re.sub(r"([a-z])([A-Z])", r"\1 \2", name)
    return " ".join(re.sub(r"[^a-z0-9]+", " ", name).split())


def suggest_mapping(kind: ImportKind, header: list[str]) -> dict[str, str]:
    """Our field → the file's column, for every column we recognise. Each column maps once."""
    normalized = {normalize_header(column): column for column in reversed(header)}
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    for spec in FIELDS[kind]:
        for synonym in spec.synonyms:
            column = normalized.get(synonym)
            if column is not None and column not in taken:
                mapping[spec.name] = column
                taken.add(column)
                break
    if kind == ImportKind.CUSTOMERS and {"first_name", "last_name"} <= set(mapping):
        mapping.pop("full_name", None)
    return mapping


def check_mapping(kind: ImportKind, mapping: dict[str, str], header: list[str]) -> None:
    """Raise ValidationError unless the mapping can load this file."""
    names = {spec.name for spec in FIELDS[kind]}
    if unknown := set(mapping) - names:
        raise ValidationError(f"Unknown fields in the mapping: {', '.join(sorted(unknown))}")
    if missing := [column for column in mapping.values() if column not in header]:
        raise ValidationError(f"The file has no column named {', '.join(missing)}.")
    used = [column for column in mapping.values()]
    if repeated := {column for column in used if used.count(column) > 1}:
        raise ValidationError(f"Each column can fill one field only: {', '.join(repeated)}.")
    if kind == ImportKind.CUSTOMERS and not {"external_id", "email", "phone"} & set(mapping):
        raise ValidationError(
            "Map at least one of Customer ID, Email or Phone, so customers can be told apart."
        )
    if kind == ImportKind.ORDERS:
        if "ordered_at" not in mapping:
            raise ValidationError("Map the order date column.")
        if not {"customer_id", "customer_email", "customer_phone"} & set(mapping):
            raise ValidationError(
                "Map a column that says whose order it is (customer ID, email or phone)."
            )
        if not {"total", "unit_price", "line_total"} & set(mapping):
            raise ValidationError("Map the order total (or the line prices).")


def store_upload(data: bytes, filename: str, folder: Path = UPLOAD_DIR) -> Path:
    """Keep an uploaded file where a worker can read it: data/uploads/<random>/<name>."""
    safe_name = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(filename).name)[:100] or "upload.csv"
    target = folder / uuid.uuid4().hex / safe_name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return target


def prepare_import(
    *,
    session: Session,
    actor: Actor,
    kind: ImportKind,
    path: Path,
    filename: str,
    mapping: dict[str, str] | None = None,
    options: dict[str, Any] | None = None,
) -> Import:
    """Record an import of `path`, ready to run. Raises UnusableFile or ValidationError."""
    authorize(actor, Permission.EDIT_DATA)
    shape = inspect_file(path)
    mapping = suggest_mapping(kind, shape.header) if mapping is None else mapping
    if not mapping:
        raise UnusableFile(
            f"None of the columns ({', '.join(shape.header[:8])}) look like {kind} data; "
            "check that the first row holds the column names."
        )
    check_mapping(kind, mapping, shape.header)
    row = Import(
        id=str(uuid.uuid4()),
        kind=kind,
        filename=filename[:255],
        stored_path=str(path),
        file_size=path.stat().st_size,
        encoding=shape.encoding,
        delimiter=shape.delimiter,
        header=shape.header,
        header_row=shape.header_row,
        mapping=mapping,
        options=options or {},
        created_by=actor.user_id,
    )
    session.add(row)
    session.flush()
    return row


def get_import(*, session: Session, import_id: str) -> Import:
    row = session.get(Import, import_id)
    if row is None:
        raise NotFound(f"There is no import {import_id}.")
    return row


def recent_imports(*, session: Session, limit: int = 20) -> list[Import]:
    return list(session.scalars(select(Import).order_by(Import.created_at.desc()).limit(limit)))


def shape_of(row: Import) -> FileShape:
    """How to read the import's file again, as inspected when it was prepared."""
    with Path(row.stored_path).open("rb") as f:
        kind = "xlsx" if f.read(4) == EXCEL_MAGIC else "csv"
    return FileShape(kind, row.encoding, row.delimiter, list(row.header), header_row=row.header_row)


# --- running ---------------------------------------------------------------------------------


@dataclass
class ImportContext:
    """What a batch needs to know about the import it belongs to."""

    import_id: str
    kind: ImportKind
    mapping: dict[str, str]
    options: dict[str, Any]
    today: date
    now: datetime
    zone: Any
    user_id: int | None
    seen: dict[Any, int] = field(default_factory=dict)
    """Rows already met in this file, by key, to report in-file duplicates."""

    def column(self, frame: pd.DataFrame, name: str) -> pd.Series:
        """The mapped column of a batch, or blanks when the field is not mapped."""
        source = self.mapping.get(name)
        if source is None:
            return pd.Series("", index=frame.index, dtype="str")
        return frame[source]


@dataclass
class BatchResult:
    inserted: int = 0
    updated: int = 0
    skipped: int = 0
    failed: int = 0
    warnings: int = 0
    problems: list[dict[str, Any]] = field(default_factory=list)
    customer_ids: list[int] = field(default_factory=list)


def first_rows(keys: pd.Series, rows: pd.Series, seen: dict[Any, int]) -> pd.Series:
    """For each row, the row where its key first appeared in the file (itself if it is first),
    remembering new keys in `seen`. Plain lists: a dict lookup per row is the cheap part."""
    setdefault = seen.setdefault
    first = [setdefault(key, row) for key, row in zip(keys.tolist(), rows.tolist(), strict=True)]
    return pd.Series(first, index=rows.index)


class Loader(Protocol):
    def remember(self, frame: pd.DataFrame, context: ImportContext) -> None:
        """Note the keys of an already-committed batch (when resuming after a restart)."""

    def load(self, session: Session, frame: pd.DataFrame, context: ImportContext) -> BatchResult:
        """Clean, stage and upsert one batch inside the caller's transaction."""


@dataclass(frozen=True)
class ImportSummary:
    import_id: str
    status: str
    total_rows: int
    inserted: int
    updated: int
    skipped: int
    failed: int
    warnings: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _loader(kind: ImportKind) -> Loader:
    from core.customer_loader import CustomerLoader
    from core.order_loader import OrderLoader

    return CustomerLoader() if kind == ImportKind.CUSTOMERS else OrderLoader()


def run_import(
    *,
    unit_of_work: UnitOfWork,
    actor: Actor,
    import_id: str,
    now: datetime,
    progress: Progress | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> ImportSummary:
    """Load the file of a prepared import, resuming after its checkpoint if it ran before.

    `now` is when the import runs: it stamps the rows and judges ages and future dates."""
    authorize(actor, Permission.EDIT_DATA)
    report = progress or (lambda _pct, _msg: None)
    with unit_of_work() as session:
        row = get_import(session=session, import_id=import_id)
        if row.status == ImportStatus.SUCCEEDED:
            return _summary(row)
        row.status, row.started_at, row.error = ImportStatus.RUNNING, now, None
        path, shape = Path(row.stored_path), shape_of(row)
        store = get_store_profile(session=session)
        context = ImportContext(
            import_id=row.id,
            kind=ImportKind(row.kind),
            mapping=dict(row.mapping),
            options=dict(row.options),
            today=now.astimezone(store.zone).date(),
            now=now,
            zone=store.zone,
            user_id=actor.user_id,
        )
        checkpoint = row.checkpoint_row
    loader = _loader(context.kind)
    try:
        total = estimate_rows(path, shape)
        done = 0
        for frame in read_batches(path, shape, chunk_rows):
            last_row = int(frame["_row"].iloc[-1])
            done += len(frame)
            if last_row <= checkpoint:
                loader.remember(frame, context)
                continue
            with unit_of_work() as session:
                result = loader.load(session, frame, context)
                _record_batch(session, import_id, result, last_row, len(frame))
            report(
                min(99, int(100 * done / max(total, 1))),
                f"Loaded {done:,} of {total:,} rows",
            )
    except (UnusableFile, ValidationError) as exc:
        with unit_of_work() as session:
            failed = get_import(session=session, import_id=import_id)
            failed.status, failed.error, failed.finished_at = (
                ImportStatus.FAILED,
                str(exc),
                now,
            )
        raise
    with unit_of_work() as session:
        row = get_import(session=session, import_id=import_id)
        row.status, row.finished_at = ImportStatus.SUCCEEDED, now
        row.total_rows = row.processed_rows
        summary = _summary(row)
        events.record(
            session=session, type="import_finished", user_id=actor.user_id, occurred_at=now,
            data={"kind": row.kind, "file": row.filename} | summary.as_dict(),
        )  # fmt: skip
        audit.record(
            session=session, actor=actor, action="import.finish", entity_type="import",
            entity_id=row.id, changes=summary.as_dict(),
        )  # fmt: skip
    report(100, "Import finished")
    log.info("import finished", extra={"import": summary.as_dict()})
    return summary


def _record_batch(
    session: Session, import_id: str, result: BatchResult, last_row: int, rows: int
) -> None:
    if result.problems:
        session.execute(
            insert(ImportProblem),
            [problem | {"import_id": import_id} for problem in result.problems],
        )
    row = get_import(session=session, import_id=import_id)
    row.processed_rows += rows
    row.checkpoint_row = last_row
    row.inserted += result.inserted
    row.updated += result.updated
    row.skipped += result.skipped
    row.failed += result.failed
    row.warnings += result.warnings


def _summary(row: Import) -> ImportSummary:
    return ImportSummary(
        row.id, row.status, row.total_rows or 0, row.inserted, row.updated, row.skipped,
        row.failed, row.warnings,
    )  # fmt: skip


# --- reporting ---------------------------------------------------------------------------------


def problems(*, session: Session, import_id: str, limit: int | None = None) -> list[ImportProblem]:
    query = (
        select(ImportProblem)
        .where(ImportProblem.import_id == import_id)
        .order_by(ImportProblem.row_number, ImportProblem.id)
    )
    return list(session.scalars(query.limit(limit) if limit else query))


def problem_counts(*, session: Session, import_id: str) -> dict[tuple[str, str], int]:
    """(severity, field) → how many rows."""
    rows = session.execute(
        select(ImportProblem.severity, ImportProblem.field, func.count())
        .where(ImportProblem.import_id == import_id)
        .group_by(ImportProblem.severity, ImportProblem.field)
    )
    return {(severity, name): count for severity, name, count in rows}


def problems_csv(*, session: Session, import_id: str) -> str:
    """The problem rows as CSV (row, severity, field, value, reason), safe for Excel."""
    from core.exports import write_csv

    out = io.StringIO()
    write_csv(
        out,
        ["row", "severity", "field", "value", "reason"],
        (
            [p.row_number, p.severity, p.field, p.value, p.message]
            for p in problems(session=session, import_id=import_id)
        ),
    )
    return out.getvalue()


def validate_sample(
    *,
    session: Session,
    kind: ImportKind,
    path: Path,
    mapping: dict[str, str],
    now: datetime,
    options: dict[str, Any] | None = None,
    rows: int = SAMPLE_ROWS,
) -> dict[str, int]:
    """Clean the first rows without writing anything: how many of each problem, for the
    preview. Raises UnusableFile when the file cannot be read."""
    from core.customer_loader import clean_customers
    from core.order_loader import clean_orders

    store = get_store_profile(session=session)
    context = ImportContext(
        import_id="", kind=kind, mapping=mapping, options=options or {},
        today=now.astimezone(store.zone).date(), now=now, zone=store.zone, user_id=None,
    )  # fmt: skip
    frame = next(read_batches(path, inspect_file(path), rows), None)
    if frame is None:
        return {}
    clean = clean_customers if kind == ImportKind.CUSTOMERS else clean_orders
    counts: dict[str, int] = {}
    for problem in clean(frame, context).problems:
        key = f"{problem['severity']}: {problem['field'] or 'row'} — {problem['message']}"
        counts[key] = counts.get(key, 0) + 1
    return counts
