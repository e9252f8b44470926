"""What an import can fill: the fields of customers and orders, the POS headers that mean each,
and the check of a column mapping."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

from core.errors import ValidationError
from core.models import ImportKind


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    synonyms: tuple[str, ...]
    """Header names (normalised: lowercase words) that mean this field."""
    help: str = ""


CUSTOMER_FIELDS = (
    Field(
        "lastcall_id",
        "Last Call ID",
        ("lastcall id", "last call id"),
        "Our own customer number, from a Last Call export: it names exactly that customer.",
    ),
    Field(
        "external_id",
        "Customer ID",
        (
            "customer id",
            "external id",
            "customer number",
            "customer no",
            "cust id",
            "cust number",
            "id",
            "account",
            "account number",
            "member id",
            "loyalty id",
            "loyalty number",
            "card number",
            "customer code",
        ),
    ),
    Field("first_name", "First name", ("first name", "first", "fname", "given name")),
    Field("last_name", "Last name", ("last name", "last", "lname", "surname", "family name")),
    Field(
        "full_name",
        "Full name",
        ("name", "full name", "customer name", "customer"),
        "Split into first and last name when those columns are absent.",
    ),
    Field("email", "Email", ("email", "e mail", "email address", "e mail address", "mail")),
    Field(
        "phone",
        "Phone",
        (
            "phone",
            "cell",
            "mobile",
            "phone number",
            "cell phone",
            "mobile phone",
            "mobile number",
            "cell number",
            "telephone",
            "tel",
            "sms number",
        ),
    ),
    Field(
        "birth_date",
        "Date of birth",
        ("dob", "birth date", "birthday", "date of birth", "birthdate", "d o b"),
    ),
    Field("age_verified", "ID checked", ("age verified", "id checked", "id verified", "verified")),
    Field(
        "address",
        "Street address",
        ("address", "street", "address 1", "address1", "street address", "address line 1"),
    ),
    Field("city", "City", ("city", "town")),
    Field("state", "State", ("state", "st", "province", "region", "state code")),
    Field("zip", "ZIP code", ("zip", "zip code", "zipcode", "postal code", "postcode", "postal")),
    Field(
        "email_opt_in",
        "Email consent",
        (
            "email opt in",
            "email consent",
            "email optin",
            "email subscribed",
            "accepts email marketing",
            "accepts marketing",
            "newsletter",
            "marketing email",
            "email marketing",
        ),
    ),
    Field(
        "sms_opt_in",
        "SMS consent",
        (
            "sms opt in",
            "sms consent",
            "text opt in",
            "sms optin",
            "accepts sms marketing",
            "sms marketing",
            "text messages",
            "sms",
        ),
    ),
    Field(
        "customer_since",
        "Customer since",
        (
            "customer since",
            "created",
            "created at",
            "signup date",
            "sign up date",
            "join date",
            "date joined",
            "member since",
            "first visit",
        ),
    ),
)

ORDER_FIELDS = (
    Field(
        "order_id",
        "Order ID",
        (
            "order id",
            "order number",
            "order no",
            "order",
            "transaction id",
            "transaction number",
            "transaction",
            "receipt",
            "receipt number",
            "ticket",
            "ticket number",
            "invoice",
            "invoice number",
            "sale id",
            "id",
        ),
    ),
    Field(
        "customer_id",
        "Customer ID",
        (
            "customer id",
            "customer number",
            "customer no",
            "cust id",
            "account",
            "account number",
            "member id",
            "loyalty id",
            "card number",
            "customer",
        ),
    ),
    Field(
        "customer_email", "Customer email", ("email", "customer email", "e mail", "email address")
    ),
    Field(
        "customer_phone",
        "Customer phone",
        ("phone", "customer phone", "cell", "mobile", "phone number"),
    ),
    Field(
        "ordered_at",
        "Order date",
        (
            "date",
            "order date",
            "ordered at",
            "order time",
            "transaction date",
            "sale date",
            "date time",
            "datetime",
            "created at",
            "time",
            "timestamp",
        ),
    ),
    Field(
        "total",
        "Order total",
        (
            "order total",
            "total",
            "amount",
            "grand total",
            "net sales",
            "sale amount",
            "total amount",
            "net total",
        ),
    ),
    Field("discount", "Discount", ("discount", "discount amount", "discounts")),
    Field(
        "promo_code",
        "Promo code",
        (
            "promo code",
            "promo",
            "promotion code",
            "coupon",
            "coupon code",
            "discount code",
            "offer",
            "offer code",
            "voucher",
            "voucher code",
        ),
    ),
    Field("channel", "Channel", ("channel", "sales channel", "source", "order type")),
    Field(
        "sku",
        "SKU",
        (
            "sku",
            "item sku",
            "product sku",
            "upc",
            "item code",
            "plu",
            "product code",
            "item number",
        ),
    ),
    Field(
        "product_name",
        "Product",
        ("item", "product", "product name", "item name", "description", "item description"),
    ),
    Field(
        "category",
        "Category",
        ("category", "department", "dept", "product type", "item category", "class"),
    ),
    Field("quantity", "Quantity", ("qty", "quantity", "units", "qty sold")),
    Field("unit_price", "Unit price", ("price", "unit price", "item price", "retail price")),
    Field(
        "line_total",
        "Line total",
        ("line total", "extended price", "item total", "ext price", "line amount"),
    ),
)

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


def unused_columns(mapping: dict[str, str], header: list[str]) -> list[str]:
    """The file's columns no field takes, in file order: said before loading, so nothing is
    dropped without a word."""
    used = set(mapping.values())
    return [column for column in header if column not in used]


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
    identity = {"lastcall_id", "external_id", "email", "phone"}
    if kind == ImportKind.CUSTOMERS and not identity & set(mapping):
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


EXAMPLE_ROWS: dict[ImportKind, tuple[dict[str, str], ...]] = {
    ImportKind.CUSTOMERS: (
        {
            "external_id": "C-1001",
            "first_name": "Ana",
            "last_name": "Lopez",
            "email": "ana.lopez@example.com",
            "phone": "(312) 555-0101",
            "birth_date": "1985-03-02",
            "age_verified": "yes",
            "address": "1200 N Milwaukee Ave",
            "city": "Chicago",
            "state": "IL",
            "zip": "60622",
            "email_opt_in": "yes",
            "sms_opt_in": "no",
            "customer_since": "2024-05-18",
        },
        {
            "external_id": "C-1002",
            "first_name": "Bob",
            "last_name": "Stone",
            "email": "bob.stone@example.com",
            "birth_date": "1978-11-30",
            "age_verified": "no",
            "zip": "60201",
            "email_opt_in": "yes",
            "sms_opt_in": "no",
        },
        {
            "external_id": "C-1003",
            "first_name": "Cy",
            "last_name": "Young",
            "phone": "773-555-0103",
            "birth_date": "1990-07-04",
            "age_verified": "yes",
            "zip": "60614",
            "email_opt_in": "no",
            "sms_opt_in": "yes",
        },
    ),
    ImportKind.ORDERS: (
        {
            "order_id": "R-5001",
            "customer_id": "C-1001",
            "ordered_at": "2026-11-20 18:30",
            "sku": "W-NAPA-CAB",
            "product_name": "Napa Cabernet 750ml",
            "category": "Wine",
            "quantity": "2",
            "unit_price": "34.99",
            "channel": "in store",
        },
        {
            "order_id": "R-5001",
            "customer_id": "C-1001",
            "ordered_at": "2026-11-20 18:30",
            "sku": "B-IPA-6",
            "product_name": "Local IPA 6-pack",
            "category": "Beer",
            "quantity": "1",
            "unit_price": "11.99",
            "channel": "in store",
        },
        {
            "order_id": "R-5002",
            "customer_id": "C-1003",
            "ordered_at": "2026-11-22 12:05",
            "sku": "S-BOURBON",
            "product_name": "Kentucky Bourbon 750ml",
            "category": "Spirits",
            "quantity": "1",
            "unit_price": "32.99",
            "discount": "3.30",
            "promo_code": "THANKS10",
            "channel": "online",
        },
    ),
}
"""A few made-up rows per kind, on example.com, for the sample files."""


def sample_file(kind: ImportKind) -> tuple[str, bytes]:
    """A CSV with every column the importer understands for `kind` (headed by the labels the
    Import page shows) and a few example rows: (file name, contents)."""
    rows = EXAMPLE_ROWS[kind]
    fields = [f for f in FIELDS[kind] if any(f.name in row for row in rows)]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([f.label for f in fields])
    writer.writerows([row.get(f.name, "") for f in fields] for row in rows)
    return f"sample-{kind}.csv", out.getvalue().encode()
