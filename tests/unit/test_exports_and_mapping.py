import io
from datetime import date

import pytest

from core.errors import ValidationError
from core.imports import check_mapping, normalize_header, suggest_mapping
from core.infra.csv_safe import safe_cell, write_csv
from core.models import ImportKind


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("+13125550123", "+13125550123"),
        ("-12.50", "-12.50"),
        ("Ana", "Ana"),
        (None, ""),
        (True, "yes"),
        (date(2026, 1, 2), "2026-01-02"),
    ],
)
def test_cells_are_safe_for_spreadsheets(value: object, cell: str) -> None:
    assert safe_cell(value) == cell


def test_write_csv_escapes_the_header_too() -> None:
    out = io.StringIO()
    assert write_csv(out, ["=name"], [["=1+1"], ["ok"]]) == 2
    assert out.getvalue().splitlines() == ["'=name", "'=1+1", "ok"]


def test_header_normalisation() -> None:
    assert normalize_header("Customer #") == "customer number"
    assert normalize_header("E-mail") == "e mail"
    assert normalize_header("Zip_Code") == "zip code"
    assert normalize_header("  D.O.B ") == "d o b"


def test_common_pos_headers_are_recognised() -> None:
    header = [
        "Customer #",
        "First Name",
        "Last Name",
        "E-mail",
        "Cell",
        "DOB",
        "Zip Code",
        "Email Opt In",
        "SMS Opt In",
        "Notes",
    ]
    assert suggest_mapping(ImportKind.CUSTOMERS, header) == {
        "external_id": "Customer #",
        "first_name": "First Name",
        "last_name": "Last Name",
        "email": "E-mail",
        "phone": "Cell",
        "birth_date": "DOB",
        "zip": "Zip Code",
        "email_opt_in": "Email Opt In",
        "sms_opt_in": "SMS Opt In",
    }
    orders = [
        "Receipt #",
        "Customer #",
        "Date",
        "SKU",
        "Item",
        "Department",
        "Qty",
        "Price",
        "Order Total",
    ]
    assert suggest_mapping(ImportKind.ORDERS, orders) == {
        "order_id": "Receipt #",
        "customer_id": "Customer #",
        "ordered_at": "Date",
        "sku": "SKU",
        "product_name": "Item",
        "category": "Department",
        "quantity": "Qty",
        "unit_price": "Price",
        "total": "Order Total",
    }


@pytest.mark.parametrize(
    ("kind", "mapping", "message"),
    [
        (ImportKind.CUSTOMERS, {"first_name": "A"}, "at least one of Customer ID, Email or Phone"),
        (ImportKind.CUSTOMERS, {"email": "Nope"}, "no column named Nope"),
        (ImportKind.CUSTOMERS, {"email": "A", "phone": "A"}, "one field only"),
        (ImportKind.CUSTOMERS, {"shoe_size": "A"}, "Unknown fields"),
        (ImportKind.ORDERS, {"customer_id": "A", "total": "B"}, "order date"),
        (ImportKind.ORDERS, {"ordered_at": "A", "total": "B"}, "whose order"),
        (ImportKind.ORDERS, {"ordered_at": "A", "customer_id": "B"}, "order total"),
    ],
)
def test_mappings_that_cannot_work_are_refused(
    kind: ImportKind, mapping: dict[str, str], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        check_mapping(kind, mapping, ["A", "B"])
