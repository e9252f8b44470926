"""Customer rows: clean a batch, report its problems, and upsert it by customer ID, then email,
then phone. Matching happens in pandas against the few existing rows fetched by key; new
customers go in with one bulk insert (COPY on PostgreSQL), changes with one UPDATE … FROM."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Integer,
    String,
    Table,
    and_,
    case,
    func,
    literal,
    update,
)
from sqlalchemy.orm import Session

from core.compliance.age import LEGAL_DRINKING_AGE
from core.customers.identity import identify
from core.db import UTCDateTime, table_of
from core.imports import cleaning
from core.imports.batch import BatchResult, ImportContext, Problem, first_rows
from core.infra import bulk
from core.messaging import suppressions
from core.models import ConsentRecord, ContactStatus, Customer

CUSTOMERS = table_of(Customer)
CONSENT_LOG = table_of(ConsentRecord)
TEXT_LIMITS = {"external_id": 64, "first_name": 100, "last_name": 100, "address": 200, "city": 100}
"""The fields stored as plain text, with their column sizes."""


@dataclass
class CleanBatch:
    rows: pd.DataFrame
    """Good rows only: `row_number` plus one column per customer field."""
    problems: list[Problem] = field(default_factory=list)
    failed: int = 0
    warnings: int = 0


def clean_customers(frame: pd.DataFrame, context: ImportContext) -> CleanBatch:
    """Check every mapped field of a batch at once; a row with any bad value is left out and
    reported field by field."""
    column = lambda name: context.column(frame, name)  # noqa: E731
    results: dict[str, cleaning.Cleaned] = {
        name: cleaning.text(column(name), max_length=limit) for name, limit in TEXT_LIMITS.items()
    }
    if "full_name" in context.mapping and not {"first_name", "last_name"} & set(context.mapping):
        first, last = cleaning.split_full_name(column("full_name"))
        results["first_name"] = cleaning.text(first, max_length=100)
        results["last_name"] = cleaning.text(last, max_length=100)
    results |= {
        "lastcall_id": cleaning.whole_number(column("lastcall_id"), minimum=1),
        "email": cleaning.email(column("email")),
        "phone": cleaning.phone(column("phone")),
        "birth_date": cleaning.dates(column("birth_date"), today=context.today),
        "age_verified": cleaning.flag(column("age_verified")),
        "state": cleaning.state(column("state")),
        "zip": cleaning.zip_code(column("zip")),
        "email_opt_in": cleaning.flag(column("email_opt_in")),
        "sms_opt_in": cleaning.flag(column("sms_opt_in")),
        "customer_since": cleaning.moments(
            column("customer_since"), zone=context.zone, now=pd.Timestamp(context.now)
        ),
    }
    split_names = "full_name" in context.mapping
    shown = {"first_name": "full_name", "last_name": "full_name"} if split_names else {}
    problems, bad = context.field_problems(frame, results, shown)
    values = {name: result.values for name, result in results.items()}
    anonymous = (
        values["lastcall_id"].isna()
        & values["external_id"].isna()
        & values["email"].isna()
        & values["phone"].isna()
    )
    refused, bad = context.row_problems(
        frame,
        [
            (frame["_extra"] != "", "", frame["_extra"], "row has more cells than the header"),
            (anonymous, "", None, "no customer ID, email or phone to tell who this is"),
        ],
        bad,
    )
    problems += refused
    rows = frame["_row"]

    good = ~bad
    clean = pd.DataFrame({"row_number": rows[good]})
    clean["lastcall_id"] = values["lastcall_id"][good]
    for name in (*TEXT_LIMITS, "email", "phone", "birth_date", "state", "zip", "customer_since"):
        clean[name] = values[name][good]
    for name in ("email_opt_in", "sms_opt_in", "age_verified"):
        clean[name] = values[name][good].astype("boolean")
    if "age_verified" not in context.mapping and context.options.get("birth_dates_verified"):
        clean["age_verified"] = clean["birth_date"].notna().astype("boolean")
    place = cleaning.places(clean["zip"])
    clean["zip_city"], clean["zip_state"] = place["city"], place["state"]
    clean["timezone"] = cleaning.time_zones(
        clean["zip"],
        clean["state"].where(clean["state"] != "", place["state"].fillna("")),
        clean["phone"],
        place["timezone"],
    )
    warnings = _consent_warnings(clean, context) + context.field_doubts(frame, results, good)
    return CleanBatch(clean, problems + warnings, int(bad.sum()), len(warnings))


def _consent_warnings(clean: pd.DataFrame, context: ImportContext) -> list[Problem]:
    """Keep under-21s (never marketed to) and drop consent that cannot stand, saying why."""
    born = pd.to_datetime(clean["birth_date"], errors="coerce")
    today = pd.Timestamp(context.today)
    adult_from = today - pd.DateOffset(years=LEGAL_DRINKING_AGE)
    minor = born.notna() & (born > adult_from)
    warnings = [
        context.problem(r, "birth_date", b, "under 21: imported, but never marketed to", "warning")
        for r, b in zip(clean["row_number"][minor], clean["birth_date"][minor], strict=True)
    ]
    sms_wanted = clean["sms_opt_in"].fillna(False).astype(bool)
    no_proof = sms_wanted & (born.isna() | minor)
    no_phone = sms_wanted & clean["phone"].isna()
    email_wanted = clean["email_opt_in"].fillna(False).astype(bool)
    no_email = email_wanted & clean["email"].isna()
    for mask, name, message in (
        (no_phone, "sms_opt_in", "SMS consent not recorded: there is no phone number"),
        (
            no_proof & ~no_phone,
            "sms_opt_in",
            "SMS consent not recorded: it needs a date of birth showing 21 or older",
        ),
        (no_email, "email_opt_in", "email consent not recorded: there is no email address"),
    ):
        warnings += [
            context.problem(r, name, "yes", message, "warning") for r in clean["row_number"][mask]
        ]
    clean.loc[no_proof | no_phone, "sms_opt_in"] = pd.NA
    clean.loc[no_email, "email_opt_in"] = pd.NA
    return warnings


def customer_key(clean: pd.DataFrame) -> pd.Series:
    """Who a row is, for spotting the same customer twice in one file."""
    return (
        ("ours:" + clean["lastcall_id"].astype("string"))
        .fillna("id:" + clean["external_id"])
        .fillna("email:" + clean["email"])
        .fillna("phone:" + clean["phone"])
    )


class CustomerLoader:
    grows: tuple[Table, ...] = (CUSTOMERS,)
    set_aside: tuple[Table, ...] = (CUSTOMERS, CONSENT_LOG)
    looks_up_by = frozenset({"ix_customers_email", "ix_customers_phone"})

    def clean(self, frame: pd.DataFrame, context: ImportContext) -> CleanBatch:
        return clean_customers(frame, context)

    def check(self, frame: pd.DataFrame, context: ImportContext) -> list[Problem]:
        return clean_customers(frame, context).problems

    def remember(self, batch: CleanBatch, context: ImportContext) -> None:
        first_rows(customer_key(batch.rows), batch.rows["row_number"], context.seen)

    def load(self, session: Session, batch: CleanBatch, context: ImportContext) -> BatchResult:
        rows = batch.rows
        keys = customer_key(rows)
        first = first_rows(keys, rows["row_number"], context.seen)
        duplicate = first != rows["row_number"]
        result = BatchResult(failed=batch.failed, warnings=batch.warnings, problems=batch.problems)
        result.problems += [
            context.problem(r, "", k.split(":", 1)[1], f"duplicate of row {f}", "skipped")
            for r, k, f in zip(
                rows["row_number"][duplicate], keys[duplicate], first[duplicate], strict=True
            )
        ]
        result.skipped = int(duplicate.sum())
        for wave in _waves(rows[~duplicate]):
            _load_wave(session, wave, context, result)
        return result

    def rewrites(self, session: Session, context: ImportContext) -> dict[Table, int]:
        return {}

    def finish(self, session: Session, context: ImportContext) -> None:
        """Nothing: every batch leaves its customers complete."""


def _waves(rows: pd.DataFrame) -> list[pd.DataFrame]:
    """The batch split so that no two rows in one part share an email or a phone: each part
    is matched after the one before it is written, exactly as if the rows came one at a time
    (so a household's second member finds the first, whatever the batch size)."""
    waves = []
    while not rows.empty:
        # Series.duplicated: DataFrame.duplicated(column) costs six times as much.
        later = (rows["email"].notna() & rows["email"].duplicated()) | (
            rows["phone"].notna() & rows["phone"].duplicated()
        )
        waves.append(rows[~later])
        rows = rows[later]
    return waves


def _load_wave(
    session: Session, rows: pd.DataFrame, context: ImportContext, result: BatchResult
) -> None:
    rows = rows.copy()
    matches = identify(session, rows)
    rows["customer_id"] = matches.customer_id
    conflicted = matches.conflict.notna()
    result.problems += [
        context.problem(r, "email", e, why, "skipped")
        for r, e, why in zip(
            rows["row_number"][conflicted],
            rows["email"][conflicted],
            matches.conflict[conflicted],
            strict=True,
        )
    ]
    deleted = rows["customer_id"].isin(_deleted(session, rows["customer_id"]))
    result.problems += [
        context.problem(
            r, "", f"#{c}", f"customer #{c} was deleted; restore them to update", "skipped"
        )
        for r, c in zip(rows["row_number"][deleted], rows["customer_id"][deleted], strict=True)
    ]
    result.skipped += int(conflicted.sum() + deleted.sum())
    keep = ~conflicted & ~deleted
    rows, shares = rows[keep], matches.shares_phone_with[keep]
    household = shares.notna() & rows["customer_id"].isna()
    result.problems += [
        context.problem(r, "phone", p, f"a new customer: shares a phone with #{h}", "warning")
        for r, p, h in zip(
            rows["row_number"][household], rows["phone"][household], shares[household], strict=True
        )
    ]
    result.warnings += int(household.sum())
    # Several rows can find the same customer (by customer ID, then by email): the last one
    # wins, as it would if the rows were imported one by one.
    matched = rows[rows["customer_id"].notna()].drop_duplicates("customer_id", keep="last")
    new = rows[rows["customer_id"].isna()].copy()
    new["customer_id"] = bulk.reserve_ids(session, CUSTOMERS, len(new))
    consents = _consent_changes(session, matched, new, context)
    _update_existing(session, matched, context)
    result.updated += int(rows["customer_id"].notna().sum())
    result.inserted += bulk.insert_frame(session, CUSTOMERS, new_customer_rows(new, context))
    bulk.insert_frame(session, CONSENT_LOG, consents)
    touched = [*matched["customer_id"].tolist(), *new["customer_id"].tolist()]
    suppressions.sync_contact_status(session=session, customer_ids=touched)


def _deleted(session: Session, ids: pd.Series) -> set[int]:
    c = CUSTOMERS.c
    known = [int(i) for i in ids.dropna().tolist()]
    gone = bulk.lookup(session, c.id, known, [], c.deleted_at.is_not(None))
    return set(gone["key"].tolist())


def _consent_changes(
    session: Session, matched: pd.DataFrame, new: pd.DataFrame, context: ImportContext
) -> pd.DataFrame:
    """Consent records for every opt-in of a new customer and every change on an existing one."""
    c = CUSTOMERS.c
    before = bulk.lookup(
        session,
        c.id,
        [int(i) for i in matched["customer_id"].tolist()],
        [c.email_opt_in, c.sms_opt_in, c.email, c.phone],
    ).set_index("key")
    frames = []
    for channel, address in (("email", "email"), ("sms", "phone")):
        wanted = f"{channel}_opt_in"
        was = matched["customer_id"].map(before[wanted]).astype("boolean")
        changed = matched[matched[wanted].notna() & (matched[wanted] != was.fillna(False))]
        fresh = new[new[wanted].fillna(False).astype(bool)]
        for part, addresses in (
            (changed, changed["customer_id"].map(before[address]).fillna(changed[address])),
            (fresh, fresh[address]),
        ):
            frames.append(
                pd.DataFrame(
                    {
                        "customer_id": part["customer_id"].astype("Int64"),
                        "channel": channel,
                        "granted": part[wanted].astype("boolean"),
                        "address": addresses,
                        "source": "import",
                        "recorded_at": pd.Timestamp(context.now),
                        "import_id": context.import_id,
                        "details": '{"row": ' + part["row_number"].astype(str) + "}",
                    }
                )
            )
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _update_existing(session: Session, rows: pd.DataFrame, context: ImportContext) -> int:
    """Fill the mapped fields of matched customers; a blank cell never erases what we know.

    The batch goes into a scratch table and one UPDATE … FROM applies it."""
    if rows.empty:
        return 0
    c = CUSTOMERS.c
    mapped = set(context.mapping)
    if "full_name" in mapped:
        mapped |= {"first_name", "last_name"}
    if mapped & {"zip", "state", "phone"}:
        mapped.add("timezone")
    if "zip" in mapped:
        mapped |= {"zip_city", "zip_state"}
    staged = [col for col in _staged() if col.name in (mapped | BASE_STAGE)]
    scratch = bulk.temp_table(session, "customer_updates", *staged)
    bulk.insert_frame(session, scratch, rows[[col.name for col in staged]])
    s = scratch.c
    plain = [
        n
        for n in (
            *TEXT_LIMITS,
            "email",
            "phone",
            "birth_date",
            "age_verified",
            "state",
            "zip",
            "timezone",
        )
        if n in mapped and n != "external_id"
    ]
    values: dict[str, Any] = {name: func.coalesce(s[name], c[name]) for name in plain}
    if "zip" in mapped:
        # A city or state the file or the record gives wins; the ZIP's fills a blank.
        for name in ("city", "state"):
            given = [s[name]] if name in mapped else []
            values[name] = func.coalesce(*given, func.nullif(c[name], ""), s[f"zip_{name}"], "")
    values["external_id"] = func.coalesce(c.external_id, s.external_id)
    if "customer_since" in mapped:
        values["created_at"] = func.coalesce(s.customer_since, c.created_at)
    now = literal(context.now, UTCDateTime())
    for channel in ("email", "sms"):
        if f"{channel}_opt_in" not in mapped:
            continue
        wanted, current = s[f"{channel}_opt_in"], c[f"{channel}_opt_in"]
        changed = and_(wanted.is_not(None), wanted != current)
        values[f"{channel}_opt_in"] = func.coalesce(wanted, current)
        values[f"{channel}_opt_in_at"] = case(
            (and_(changed, wanted.is_(True)), now),
            (and_(changed, wanted.is_(False)), None),
            else_=c[f"{channel}_opt_in_at"],
        )
        values[f"{channel}_consent_source"] = case(
            (changed, literal("import")), else_=c[f"{channel}_consent_source"]
        )
    values["updated_at"] = now
    values["version"] = c.version + 1  # an open edit form made before the import is outdated
    session.execute(update(CUSTOMERS).where(c.id == s.customer_id).values(**values))
    return len(rows)


def new_customer_rows(new: pd.DataFrame, context: ImportContext) -> pd.DataFrame:
    """Every column of the customers table for the new rows, defaults filled in."""
    now = pd.Timestamp(context.now)
    email_yes = new["email_opt_in"].fillna(False).astype(bool)
    sms_yes = new["sms_opt_in"].fillna(False).astype(bool)
    out = pd.DataFrame(
        {
            "id": new["customer_id"].astype("int64"),
            "external_id": new["external_id"],
            "email": new["email"],
            "phone": new["phone"],
            "first_name": new["first_name"].fillna(""),
            "last_name": new["last_name"].fillna(""),
            "birth_date": new["birth_date"],
            "age_verified": new["age_verified"].fillna(False).astype(bool),
            "address": new["address"].fillna(""),
            "city": filled_from_zip(new, "city"),
            "state": filled_from_zip(new, "state"),
            "zip": new["zip"].fillna(""),
            "timezone": new["timezone"],
            "email_opt_in": email_yes,
            "email_opt_in_at": pd.Series(now, index=new.index).where(email_yes),
            "email_consent_source": pd.Series("import", index=new.index).where(email_yes),
            "email_status": ContactStatus.ACTIVE.value,
            "sms_opt_in": sms_yes,
            "sms_opt_in_at": pd.Series(now, index=new.index).where(sms_yes),
            "sms_consent_source": pd.Series("import", index=new.index).where(sms_yes),
            "sms_status": ContactStatus.ACTIVE.value,
            "order_count": 0,
            "total_spent_cents": 0,
            "source": "import",
            "created_at": new["customer_since"].fillna(now),
            "updated_at": now,
        }
    )
    return out


def filled_from_zip(rows: pd.DataFrame, name: str) -> pd.Series:
    """The row's own city or state, else its ZIP code's, else blank."""
    given = rows[name].replace("", None)
    if f"zip_{name}" in rows:
        given = given.fillna(rows[f"zip_{name}"])
    return given.fillna("")


BASE_STAGE = {"row_number", "customer_id", "external_id"}


def _staged() -> tuple[Column[Any], ...]:
    """Scratch columns for updates (fresh objects each time: a Column belongs to one table)."""
    return (
        Column("row_number", Integer, primary_key=True, autoincrement=False),
        Column("customer_id", BigInteger),
        Column("external_id", String),
        Column("email", String),
        Column("phone", String),
        Column("first_name", String),
        Column("last_name", String),
        Column("birth_date", Date),
        Column("age_verified", Boolean),
        Column("address", String),
        Column("city", String),
        Column("state", String),
        Column("zip", String),
        Column("zip_city", String),
        Column("zip_state", String),
        Column("timezone", String),
        Column("email_opt_in", Boolean),
        Column("sms_opt_in", Boolean),
        Column("customer_since", UTCDateTime()),
    )
