"""Running an import: store the upload, prepare it (shape and mapping), load it in batches with a
checkpoint, and report its problem rows.

The flow: store the upload → `prepare_import` reads its shape and suggests a column mapping →
the user corrects it → `run_import` (in a job) streams the file in batches. Each batch is
cleaned in pandas, loaded through a staging table and upserted in SQL, in one transaction that
also records its problem rows and advances the import's checkpoint. A killed import therefore
restarts after its last committed batch and never loads a row twice.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import shutil
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Table, func, insert, select
from sqlalchemy.orm import Session

from core.config import Settings, get_settings
from core.db import UnitOfWork
from core.errors import DomainError, NotFound, ValidationError
from core.imports.ahead import PROCESS_FROM_ROWS, cleaned_batches
from core.imports.batch import BatchResult, ImportContext, Loader, row_labels
from core.imports.customer_rows import CustomerLoader
from core.imports.fields import check_mapping, suggest_mapping
from core.imports.files import (
    EXCEL_MAGIC,
    FileShape,
    UnusableFile,
    estimate_rows,
    inspect_file,
    read_batches,
)
from core.imports.order_rows import OrderLoader
from core.infra import audit, bulk, deferred_upkeep, events
from core.infra.csv_safe import write_csv
from core.infra.job_rows import Progress, no_progress
from core.models import Import, ImportKind, ImportProblem, ImportStatus
from core.permissions import Actor, Permission, authorize
from core.store_profile import get_store_profile

log = logging.getLogger(__name__)

UPLOAD_RETENTION = timedelta(days=7)
"""How long an upload that did not load (failed, or never started) is kept to retry it."""
CHUNK_ROWS = 50_000
"""Rows per batch and transaction: big enough for set-based speed, small enough that a SQLite
reader waits at most a moment and memory stays bounded."""
DEFER_INDEXES_FROM_ROWS = 100_000
"""Files smaller than this keep every index up to date as they load (building an index
afresh only pays for a big load)."""
REWRITE_SHARE = 1 / 3
"""A load's last step that rewrites this share of a table or more (the customer totals of a
big orders file) does so with the table's secondary indexes set aside. Measured on PostgreSQL
with 1M customers: rewriting 632,632 of them took 22.8 s under their eleven indexes, 6.1 s
under the two unique ones, and building the other nine again 7.1 s; a rewritten row saves
about 26 µs, a row of the table costs 7 µs to index again, so the break-even is near 27 %."""
SAMPLE_ROWS = 1000


def upload_folder(settings: Settings | None = None) -> Path:
    return (settings or get_settings()).files_dir / "uploads"


def store_upload(data: bytes, filename: str, folder: Path | None = None) -> Path:
    """Keep an uploaded file where a worker can read it: <files>/uploads/<random>/<name>,
    readable by the app's own user only (it holds customers' personal data). It is deleted
    once loaded, or after `UPLOAD_RETENTION` if it never is (`purge_uploads`)."""
    limit = get_settings().import_max_upload_mb
    if len(data) > limit * 1024 * 1024:
        raise ValidationError(
            f"The file is {len(data) / 1024 / 1024:,.0f} MB; at most {limit:,} MB can be uploaded "
            "(IMPORT_MAX_UPLOAD_MB).",
            field="file",
        )
    safe_name = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(filename).name)[:100] or "upload.csv"
    root = folder or upload_folder()
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    target = root / uuid.uuid4().hex / safe_name
    target.parent.mkdir(mode=0o700)
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    return target


def discard_upload(path: Path, folder: Path | None = None) -> None:
    """Delete an uploaded file and the folder `store_upload` made for it. A file imported
    from elsewhere (the CLI's own path) is the user's, and is left alone."""
    if path.resolve().parent.parent == (folder or upload_folder()).resolve():
        shutil.rmtree(path.parent, ignore_errors=True)


def purge_uploads(*, session: Session, now: datetime, folder: Path | None = None) -> int:
    """Delete the uploads older than `UPLOAD_RETENTION` that no import is loading or about to
    load (a ready or running import keeps its file). Returns how many were deleted."""
    root = folder or upload_folder()
    if not root.is_dir():
        return 0
    in_use = {
        Path(p).parent
        for p in session.scalars(
            select(Import.stored_path).where(
                Import.status.in_([ImportStatus.READY, ImportStatus.RUNNING])
            )
        )
    }
    cutoff = (now - UPLOAD_RETENTION).timestamp()
    old = [
        d for d in root.iterdir() if d.is_dir() and d not in in_use and d.stat().st_mtime < cutoff
    ]
    for stale in old:
        shutil.rmtree(stale, ignore_errors=True)
    if old:
        log.info("old uploads deleted", extra={"count": len(old)})
    return len(old)


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


def stopped_imports(*, session: Session, include_running: bool, limit: int = 5) -> list[Import]:
    """Imports that stopped before their end and can carry on from their checkpoint: failed
    ones, and (when no import job is running) ones left "running" by a process that died;
    only those whose file is still here."""
    statuses = [ImportStatus.FAILED, *([ImportStatus.RUNNING] if include_running else [])]
    rows = session.scalars(
        select(Import).where(Import.status.in_(statuses)).order_by(Import.created_at.desc())
    )
    return [row for row in rows if Path(row.stored_path).is_file()][:limit]


def shape_of(row: Import) -> FileShape:
    """How to read the import's file again, as inspected when it was prepared."""
    with Path(row.stored_path).open("rb") as f:
        kind = "xlsx" if f.read(4) == EXCEL_MAGIC else "csv"
    return FileShape(kind, row.encoding, row.delimiter, list(row.header), header_row=row.header_row)


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


LOADERS: dict[ImportKind, Loader[Any]] = {
    ImportKind.CUSTOMERS: CustomerLoader(),
    ImportKind.ORDERS: OrderLoader(),
}


def _context(
    session: Session,
    *,
    kind: ImportKind,
    mapping: dict[str, str],
    options: dict[str, Any],
    now: datetime,
    import_id: str = "",
    user_id: int | None = None,
) -> ImportContext:
    zone = get_store_profile(session=session).zone
    return ImportContext(
        import_id=import_id,
        kind=kind,
        mapping=dict(mapping),
        options=dict(options),
        today=now.astimezone(zone).date(),
        now=now,
        zone=zone,
        user_id=user_id,
    )


def run_import(
    *,
    unit_of_work: UnitOfWork,
    actor: Actor,
    import_id: str,
    now: datetime,
    progress: Progress | None = None,
    chunk_rows: int = CHUNK_ROWS,
    clean_in_process: bool | None = None,
    defer_indexes_from: int = DEFER_INDEXES_FROM_ROWS,
) -> ImportSummary:
    """Load the file of a prepared import, resuming after its checkpoint if it ran before.

    `now` is when the import runs: it stamps the rows and judges ages and future dates.
    `clean_in_process` says where the batches are cleaned (`core.imports.ahead`); by default in
    a process of their own from `PROCESS_FROM_ROWS` rows. A file of `defer_indexes_from` rows
    or more, at least as many as a table it fills holds, builds that table's secondary indexes
    and foreign keys after its rows are in (`core.infra.deferred_upkeep`)."""
    authorize(actor, Permission.EDIT_DATA)
    report = progress or no_progress
    with unit_of_work() as session:
        row = get_import(session=session, import_id=import_id)
        if row.status == ImportStatus.SUCCEEDED:
            return _summary(row)
        row.status, row.started_at, row.error = ImportStatus.RUNNING, now, None
        path, shape = Path(row.stored_path), shape_of(row)
        context = _context(
            session,
            kind=ImportKind(row.kind),
            mapping=row.mapping,
            options=row.options,
            now=now,
            import_id=row.id,
            user_id=actor.user_id,
        )
        checkpoint = row.checkpoint_row
        context.resumed = checkpoint > 0
    loader = LOADERS[context.kind]
    try:
        total = context.rows = estimate_rows(path, shape)
        if total > (limit := get_settings().import_max_rows):
            raise UnusableFile(
                f"The file has {total:,} rows; at most {limit:,} can be imported at once "
                "(IMPORT_MAX_ROWS). Split it and import the parts one after another."
            )
        if total >= defer_indexes_from:
            with unit_of_work() as session:
                _defer_indexes(session, dict.fromkeys(loader.set_aside, total), loader.looks_up_by)
        done = 0
        if clean_in_process is None:
            clean_in_process = total >= PROCESS_FROM_ROWS
        batches = cleaned_batches(
            path, shape, chunk_rows, loader, context, in_process=clean_in_process
        )
        # Closed here, not whenever it is collected: a cleaning process stops with the import.
        with contextlib.closing(batches):
            for frame, batch in batches:
                last_row = int(frame["_row"].iloc[-1])
                done += len(frame)
                if last_row <= checkpoint:
                    loader.remember(batch, context)
                    continue
                with unit_of_work() as session:
                    bulk.keep_statistics(session, *loader.grows)
                    result = loader.load(session, batch, context)
                    if result.problems:
                        who = row_labels(frame, context)
                        for problem in result.problems:
                            problem["who"] = who.get(problem["row_number"], "")
                    _record_batch(session, import_id, result, last_row, len(frame))
                report(
                    min(99, int(100 * done / max(total, 1))),
                    f"Loaded {done:,} of {total:,} rows",
                )
        report(99, "Building indexes and bringing customer totals up to date")
        if total >= defer_indexes_from:
            with unit_of_work() as session:
                rewrites = loader.rewrites(session, context)
                _defer_indexes(session, rewrites, frozenset(), share=REWRITE_SHARE)
        with unit_of_work() as session:
            loader.finish(session, context)
            deferred_upkeep.restore(session)
    except Exception as exc:
        # Whatever stopped it, the import says so (and can be resumed from its checkpoint)
        # instead of showing "running" forever.
        reason = str(exc) if isinstance(exc, DomainError) else f"{type(exc).__name__}: {exc}"
        with unit_of_work() as session:
            failed = get_import(session=session, import_id=import_id)
            failed.status, failed.error, failed.finished_at = ImportStatus.FAILED, reason, now
        _restore_indexes_after_failure(unit_of_work)
        raise
    discard_upload(path)  # loaded: the rows are in the database, the file has done its work
    with unit_of_work() as session:
        row = get_import(session=session, import_id=import_id)
        row.status, row.finished_at = ImportStatus.SUCCEEDED, now
        row.total_rows = row.processed_rows
        summary = _summary(row)
        events.record(
            session=session,
            type="import_finished",
            user_id=actor.user_id,
            occurred_at=now,
            data={"kind": row.kind, "file": row.filename} | summary.as_dict(),
        )
        audit.record(
            session=session,
            actor=actor,
            action="import.finish",
            entity_type="import",
            entity_id=row.id,
            changes=summary.as_dict(),
        )
    report(100, "Import finished")
    log.info("import finished", extra={"import": summary.as_dict()})
    return summary


def _defer_indexes(
    session: Session, rows: dict[Table, int], keep: frozenset[str], *, share: float = 1.0
) -> None:
    """Set aside the secondary indexes (but those in `keep`) and foreign keys of each table
    that is to have at least `share` of the rows it holds written (`rows`), on PostgreSQL.
    SQLite builds an index about as fast as it keeps one up to date in a load (1M customers:
    8.8 s saved in the load, 7.6 s to build the seven), and an UPDATE there touches only the
    indexes of the columns it changes."""
    if bulk.dialect(session) != "postgresql":
        return
    for table, written in rows.items():
        if written >= share * bulk.row_count(session, table):
            deferred_upkeep.defer(session, table, keep=keep)


def _restore_indexes_after_failure(unit_of_work: UnitOfWork) -> None:
    """Build what a failed import set aside, if the database lets us: the failure
    itself is what the caller reports (and the next import builds them otherwise)."""
    try:
        with unit_of_work() as session:
            deferred_upkeep.restore(session)
    except Exception:
        log.exception("what a failed import set aside could not be built again")


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
        row.id,
        row.status,
        row.total_rows or 0,
        row.inserted,
        row.updated,
        row.skipped,
        row.failed,
        row.warnings,
    )


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
    """The problem rows as CSV (row, whom it is about, severity, field, value, reason), safe
    for Excel."""
    out = io.StringIO()
    write_csv(
        out,
        ["row", "about", "severity", "field", "value", "reason"],
        (
            [p.row_number, p.who, p.severity, p.field, p.value, p.message]
            for p in problems(session=session, import_id=import_id)
        ),
    )
    return out.getvalue()


@dataclass(frozen=True)
class SampleCheck:
    """What the check before an import found, for the preview."""

    rows: int
    """How many rows were checked."""
    whole_file: bool
    """Whether those were all the file's rows."""
    problems: dict[str, int]
    """How many rows have each problem."""


def validate_sample(
    *,
    session: Session,
    kind: ImportKind,
    path: Path,
    mapping: dict[str, str],
    now: datetime,
    options: dict[str, Any] | None = None,
    rows: int = SAMPLE_ROWS,
) -> SampleCheck:
    """Clean the first `rows` rows without writing anything: how many of each problem, for the
    preview. Raises UnusableFile when the file cannot be read."""
    context = _context(session, kind=kind, mapping=mapping, options=options or {}, now=now)
    batches = read_batches(path, inspect_file(path), rows)
    frame = next(batches, None)
    if frame is None:
        return SampleCheck(0, True, {})
    counts: dict[str, int] = {}
    for problem in LOADERS[kind].check(frame, context):
        key = f"{problem['severity']}: {problem['field'] or 'row'} — {problem['message']}"
        counts[key] = counts.get(key, 0) + 1
    return SampleCheck(len(frame), next(batches, None) is None, counts)
