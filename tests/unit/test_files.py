"""Reading the shapes of file stores actually export."""

import codecs
import re
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from core.imports.files import UnusableFile, inspect_file, read_batches, read_rows


def write(tmp_path: Path, content: bytes, name: str = "f.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def rows_of(path: Path) -> list[tuple[int, dict]]:
    shape = inspect_file(path)
    frames = list(read_batches(path, shape, 2))
    return [
        (int(r["_row"]), {k: v for k, v in r.items() if not k.startswith("_")})
        for frame in frames
        for r in frame.to_dict("records")
    ]


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiters(tmp_path: Path, delimiter: str) -> None:
    text = (
        delimiter.join(["Name", "E-mail", "Zip"])
        + "\n"
        + delimiter.join(["Ana", "ana@example.com", "60622"])
    )
    shape = inspect_file(write(tmp_path, text.encode()))
    assert shape.delimiter == delimiter
    assert shape.header == ["Name", "E-mail", "Zip"]
    assert shape.preview == [["Ana", "ana@example.com", "60622"]]


def test_latin1_bom_and_utf16(tmp_path: Path) -> None:
    latin = write(tmp_path, "Name,City\nJosé,Bogotá\n".encode("latin-1"))
    assert rows_of(latin) == [(2, {"Name": "José", "City": "Bogotá"})]
    bom = write(tmp_path, codecs.BOM_UTF8 + b"Name,City\nAna,Chicago\n", "bom.csv")
    assert inspect_file(bom).header == ["Name", "City"]
    utf16 = write(tmp_path, "Name,City\nZoë,Köln\n".encode("utf-16"), "u16.csv")
    assert rows_of(utf16) == [(2, {"Name": "Zoë", "City": "Köln"})]


def test_row_numbers_are_spreadsheet_rows(tmp_path: Path) -> None:
    """Blank rows count; a quoted cell with line breaks is still one row."""
    content = b'Name,Address\n\nAna,"12 Main St\nApt 4"\n  ,  \nBob,1 Elm\n'
    path = write(tmp_path, content)
    assert rows_of(path) == [
        (3, {"Name": "Ana", "Address": "12 Main St\nApt 4"}),
        (5, {"Name": "Bob", "Address": "1 Elm"}),
    ]
    assert [number for number, _ in read_rows(path, inspect_file(path))] == [1, 3, 5]


def test_blank_lines_before_the_header(tmp_path: Path) -> None:
    path = write(tmp_path, b"\n\nName,Zip\nAna,60622\n")
    shape = inspect_file(path)
    assert (shape.header_row, shape.header) == (3, ["Name", "Zip"])
    assert rows_of(path) == [(4, {"Name": "Ana", "Zip": "60622"})]


def test_extra_cells_are_kept_for_the_report(tmp_path: Path) -> None:
    path = write(tmp_path, b"Name,Zip\nAna,60622,oops,\nBob,60601,\n")
    frame = next(read_batches(path, inspect_file(path), 10))
    assert list(frame["_extra"]) == ["oops", ""]


def test_duplicate_and_blank_headers_stay_mappable(tmp_path: Path) -> None:
    shape = inspect_file(write(tmp_path, b"Phone,,Phone\n1,2,3\n"))
    assert shape.header == ["Phone", "Column 2", "Phone (2)"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"   \n\n", "empty"),
        (b"\x00\x01\x02binary\x00", "binary"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1old excel", "old Excel"),
        (b"PK\x03\x04not really a workbook", "Excel file cannot be opened"),
        (b"Customer #,Email\n", "column names but no rows"),
        (b"Customer #,Email\n\n\n", "column names but no rows"),
        (",".join(f"c{i}" for i in range(301)).encode() + b"\n" + b"1," * 300 + b"1\n", "301"),
    ],
)
def test_unusable_files_say_why(tmp_path: Path, content: bytes, message: str) -> None:
    with pytest.raises(UnusableFile, match=message):
        inspect_file(write(tmp_path, content))


def test_excel_workbooks(tmp_path: Path) -> None:
    from datetime import datetime

    book = Workbook()
    sheet = book.active
    sheet.append(["Customer #", "DOB", "Cell", "Spent"])
    sheet.append([101, datetime(1990, 3, 31), 3125550123, 12.5])
    sheet.append([None, None, None, None])
    sheet.append([102, datetime(1985, 1, 2, 18, 30), "312-555-0199", 7])
    path = tmp_path / "book.xlsx"
    book.save(path)
    shape = inspect_file(path)
    assert shape.kind == "xlsx" and shape.header == ["Customer #", "DOB", "Cell", "Spent"]
    assert rows_of(path) == [
        (2, {"Customer #": "101", "DOB": "1990-03-31", "Cell": "3125550123", "Spent": "12.5"}),
        (
            4,
            {
                "Customer #": "102",
                "DOB": "1985-01-02 18:30:00",
                "Cell": "312-555-0199",
                "Spent": "7",
            },
        ),
    ]


def workbook_claiming(tmp_path: Path, dimension: str) -> Path:
    """A small workbook whose sheet declares `dimension` (Excel trusts what it is told)."""
    book = Workbook()
    book.active.append(["Email", "First name"])
    book.active.append(["ana@example.com", "Ana"])
    plain = tmp_path / "plain.xlsx"
    book.save(plain)
    claimed = tmp_path / "claimed.xlsx"
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(claimed, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(
                    rb'<dimension ref="[^"]+"', f'<dimension ref="{dimension}"'.encode(), data
                )
            target.writestr(item, data)
    return claimed


def test_a_workbook_claiming_a_huge_sheet_is_read_by_its_real_cells(tmp_path: Path) -> None:
    """1.5 KB declaring A1:XFD1048576 took minutes: openpyxl padded every row to 16,384 cells."""
    path = workbook_claiming(tmp_path, "A1:XFD1048576")
    shape = inspect_file(path)
    assert shape.header == ["Email", "First name"] and shape.preview == [["ana@example.com", "Ana"]]
    assert [len(cells) for _, cells in read_rows(path, shape)] == [2, 2], "no padding to XFD"
    assert rows_of(path) == [(2, {"Email": "ana@example.com", "First name": "Ana"})]


def test_files_past_the_limits_are_refused_before_loading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from core.config import get_settings

    book = workbook_claiming(tmp_path, "A1:B2")
    monkeypatch.setenv("IMPORT_MAX_XLSX_MB", "1")
    monkeypatch.setenv("IMPORT_MAX_ROWS", "3")
    get_settings.cache_clear()
    try:
        big = tmp_path / "big.xlsx"
        with zipfile.ZipFile(big, "w", zipfile.ZIP_DEFLATED) as archive:
            with zipfile.ZipFile(book) as source:
                for item in source.infolist():
                    archive.writestr(item, source.read(item))
            archive.writestr("xl/padding.bin", b"\0" * (2 * 1024 * 1024))  # 2 MB unpacked
        with pytest.raises(UnusableFile, match="unpacks to 2 MB; at most 1 MB"):
            inspect_file(big)
        many = write(tmp_path, b"Email\n" + b"".join(b"x%d@example.com\n" % i for i in range(5)))
        with pytest.raises(UnusableFile, match="more than 3 rows"):
            rows_of(many)
    finally:
        get_settings.cache_clear()
