"""Reading the tabular files stores export: CSV in any common shape, and Excel workbooks.

`inspect_file` works out what a file is (encoding, delimiter, header, a preview) or says clearly
why it cannot be read; `read_rows` streams its rows with their row numbers as a spreadsheet
would show them (the header is row 1), so an error report points at the right line.
"""

from __future__ import annotations

import codecs
import csv
import functools
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from core.config import get_settings
from core.errors import DomainError

SAMPLE_BYTES = 256 * 1024
PREVIEW_ROWS = 10
DELIMITERS = ",;\t|"
EXCEL_MAGIC = b"PK\x03\x04"
OLD_EXCEL_MAGIC = b"\xd0\xcf\x11\xe0"


class UnusableFile(DomainError):
    """The file as a whole cannot be read (as opposed to some of its rows)."""


@dataclass(frozen=True)
class FileShape:
    kind: str
    """csv or xlsx"""
    encoding: str
    delimiter: str
    header: list[str]
    preview: list[list[str]] = field(default_factory=list)
    """Up to the first ten data rows, padded to the header's width."""
    header_row: int = 1
    """The row holding the column names (after any blank rows at the top)."""


def inspect_file(path: Path) -> FileShape:
    """Work out how to read `path`. Raises UnusableFile with a reason a person can act on:
    empty, no data under the header, or past the install's limits (IMPORT_MAX_*)."""
    with path.open("rb") as f:
        head = f.read(SAMPLE_BYTES)
    if not head.strip():
        raise UnusableFile("The file is empty.")
    if head.startswith(OLD_EXCEL_MAGIC):
        raise UnusableFile("This is an old Excel (.xls) file; save it as .xlsx or CSV and retry.")
    if head.startswith(EXCEL_MAGIC):
        shape = _inspect_xlsx(path)
    else:
        encoding = _detect_encoding(head)
        text = head.decode(encoding, errors="ignore")
        delimiter = _detect_delimiter(text)
        rows = iter(read_rows(path, FileShape("csv", encoding, delimiter, [])))
        header_row, cells = next(rows, (1, []))
        header = header_names(cells)
        preview = [_fit(cells, len(header)) for _, cells in _take(rows, PREVIEW_ROWS)]
        shape = FileShape("csv", encoding, delimiter, header, preview, header_row)
    limit = get_settings().import_max_columns
    if len(shape.header) > limit:
        raise UnusableFile(
            f"The file has {len(shape.header):,} columns; at most {limit:,} can be imported "
            "(IMPORT_MAX_COLUMNS). Remove the columns you do not need."
        )
    if not shape.preview:
        raise UnusableFile("The file has column names but no rows under them: nothing to import.")
    return shape


def read_rows(path: Path, shape: FileShape) -> Iterator[tuple[int, list[str]]]:
    """Every non-blank row, header first, as (row number, cells); cells are stripped strings.

    Row numbers are what a spreadsheet shows: blank rows count, a cell with line breaks
    inside does not add rows. For whole files, `read_batches` is the fast path.
    """
    if shape.kind == "xlsx":
        yield from _xlsx_rows(path)
        return
    with path.open(encoding=shape.encoding, newline="", errors="strict") as f:
        reader = csv.reader(f, delimiter=shape.delimiter)
        number = 0
        try:
            for number, cells in enumerate(reader, start=1):
                if any(cell.strip() for cell in cells):
                    yield number, [cell.strip() for cell in cells]
        except UnicodeDecodeError as exc:
            raise UnusableFile(
                f"Row {number + 1} is not valid {shape.encoding} text; save the file as UTF-8 "
                "and retry."
            ) from exc
        except csv.Error as exc:
            raise UnusableFile(f"Row {number + 1} cannot be read as CSV: {exc}") from exc


EXTRA_COLUMNS = 20
"""Cells allowed past the header's width before a row is unreadable (they are reported)."""


def read_batches(path: Path, shape: FileShape, rows: int) -> Iterator[pd.DataFrame]:
    """The data rows, `rows` at a time, as DataFrames of stripped strings: one column per
    header name, plus `_extra` (any non-blank cells past the header) and `_row` (the row number
    as in `read_rows`). Blank rows are left out. CSV goes through pandas' C parser."""
    limit, seen = get_settings().import_max_rows, 0
    for batch in _batches(path, shape, rows):
        seen += len(batch)
        if seen > limit:
            raise UnusableFile(
                f"The file has more than {limit:,} rows (IMPORT_MAX_ROWS); split it and import "
                "the parts one after another."
            )
        yield batch


def _batches(path: Path, shape: FileShape, rows: int) -> Iterator[pd.DataFrame]:
    if shape.kind == "xlsx":
        yield from _xlsx_batches(path, shape, rows)
        return
    width = len(shape.header)
    names = [f"c{i}" for i in range(width + EXTRA_COLUMNS)]
    try:
        reader = pd.read_csv(
            path,
            sep=shape.delimiter,
            encoding=shape.encoding,
            header=None,
            names=names,
            skiprows=shape.header_row,
            dtype=str,
            na_filter=False,
            skip_blank_lines=False,
            chunksize=rows,
            engine="c",
            on_bad_lines="skip",
            encoding_errors="strict",
        )
        for chunk in reader:
            yield _shape_batch(chunk.fillna(""), shape, shape.header_row + 1)
    except UnicodeDecodeError as exc:
        raise UnusableFile(
            f"Part of the file is not valid {shape.encoding} text; save it as UTF-8 and retry."
        ) from exc
    except pd.errors.ParserError as exc:
        raise UnusableFile(f"The file cannot be read as CSV: {exc}") from exc


def _shape_batch(chunk: pd.DataFrame, shape: FileShape, first_row: int) -> pd.DataFrame:
    width = len(shape.header)
    data = chunk.iloc[:, :width].apply(lambda column: column.str.strip())
    data.columns = shape.header
    blank = (data == "").all(axis=1)
    # Cells past the header are rare: only the columns that hold any are looked at.
    extra = [chunk.iloc[:, i].str.strip() for i in range(width, chunk.shape[1])]
    extra = [column for column in extra if (column != "").any()]
    joined = (
        functools.reduce(lambda left, right: left + " " + right, extra).str.strip()
        if extra
        else pd.Series("", index=chunk.index, dtype="str")
    )
    blank &= joined == ""
    data = data.assign(_extra=joined, _row=first_row + chunk.index)
    return data[~blank.to_numpy()]


def _xlsx_batches(path: Path, shape: FileShape, rows: int) -> Iterator[pd.DataFrame]:
    width = len(shape.header)
    batch: list[list[Any]] = []
    records = _xlsx_rows(path)
    next(records, None)  # the header
    for number, cells in records:
        extra = " ".join(cell for cell in cells[width:] if cell)
        batch.append([*_fit(cells, width), extra, number])
        if len(batch) >= rows:
            yield _xlsx_frame(batch, shape.header)
            batch = []
    if batch:
        yield _xlsx_frame(batch, shape.header)


def _xlsx_frame(batch: list[list[Any]], header: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(batch, columns=[*header, "_extra", "_row"])
    return frame.astype(dict.fromkeys([*header, "_extra"], "str") | {"_row": "int64"})


def estimate_rows(path: Path, shape: FileShape) -> int:
    """Roughly how many data rows (line breaks), for progress; exact for plain CSV. For
    .xlsx, the row count the sheet declares, at most the row limit (it may claim a million)."""
    if shape.kind == "xlsx":
        workbook = _open_workbook(path)
        try:
            declared = (workbook.worksheets[0].max_row or 1) - shape.header_row
            return max(0, min(declared, get_settings().import_max_rows))
        finally:
            workbook.close()
    lines = 0
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            lines += block.count(b"\n")
    return max(0, lines - shape.header_row)


def _detect_encoding(head: bytes) -> str:
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in head:
        raise UnusableFile(
            "This is not a text file (it contains binary data). Upload CSV or .xlsx."
        )
    # Cut at the last newline so a character split by the sample boundary is not misread.
    sample = head[: head.rfind(b"\n") + 1] or head
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            sample.decode(encoding)
        except UnicodeDecodeError:
            continue
        return encoding
    return "latin-1"


def _detect_delimiter(text: str) -> str:
    lines = [line for line in text.splitlines()[:50] if line.strip()]
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=DELIMITERS).delimiter
    except csv.Error:
        first = lines[0] if lines else ""
        return max(DELIMITERS, key=first.count) if any(d in first for d in DELIMITERS) else ","


def header_names(cells: list[str]) -> list[str]:
    """Header names, with blanks and repeats made unique so every column can be mapped."""
    seen: dict[str, int] = {}
    header = []
    for index, cell in enumerate(cells, start=1):
        name = cell.lstrip("\ufeff").strip() or f"Column {index}"
        seen[name] = seen.get(name, 0) + 1
        header.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    if not header:
        raise UnusableFile("The file has no header row.")
    return header


def _fit(cells: list[str], width: int) -> list[str]:
    return (cells + [""] * width)[:width]


def _take(rows: Iterator[tuple[int, list[str]]], n: int) -> list[tuple[int, list[str]]]:
    return [row for _, row in zip(range(n), rows, strict=False)]


def _inspect_xlsx(path: Path) -> FileShape:
    rows = _xlsx_rows(path)
    header_row, cells = next(rows, (1, []))
    header = header_names(cells)
    preview = [_fit(cells, len(header)) for _, cells in _take(rows, PREVIEW_ROWS)]
    return FileShape("xlsx", "utf-8", ",", header, preview, header_row)


def _xlsx_rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    """The first worksheet's non-blank rows, values as text (dates as ISO). The sheet's
    declared dimensions are ignored: a file can claim A1:XFD1048576 (17 billion cells) in a
    few bytes, and openpyxl would pad every row to it."""
    workbook = _open_workbook(path)
    width = get_settings().import_max_columns + EXTRA_COLUMNS
    try:
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = [_excel_text(value) for value in values[:width]]
            if any(cells):
                yield number, cells
    finally:
        workbook.close()


def _open_workbook(path: Path) -> Any:
    """Open by content, not by name: a workbook saved as .csv still opens. Its unpacked size
    is checked first (IMPORT_MAX_XLSX_MB)."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(member.file_size for member in archive.infolist())
        limit = get_settings().import_max_xlsx_mb
        if unpacked > limit * 1024 * 1024:
            raise UnusableFile(
                f"This Excel file unpacks to {unpacked / 1024 / 1024:,.0f} MB; at most "
                f"{limit:,} MB can be imported (IMPORT_MAX_XLSX_MB). Save it as CSV instead."
            )
        return load_workbook(io.BytesIO(path.read_bytes()), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise UnusableFile(f"This Excel file cannot be opened: {exc}") from exc


def _excel_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return (
            value.isoformat(sep=" ")
            if value.time() != datetime.min.time()
            else value.date().isoformat()
        )
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
