"""The vocabulary of one batch of an import: what it knows of its import, what it reports back,
and the loader each import kind provides."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol, TypeVar

import pandas as pd
from sqlalchemy import Table
from sqlalchemy.orm import Session

from core.imports.cleaning import Cleaned
from core.imports.fields import FIELDS
from core.models import ImportKind

Problem = dict[str, Any]
"""One row of an import's problem report (the columns of ImportProblem)."""
Batch = TypeVar("Batch")
"""What a loader's `clean` makes of a batch of rows."""


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
    touched: set[int] = field(default_factory=set)
    """Customers whose orders this run changed (their totals are brought up to date once, at
    the end, rather than after every batch)."""
    resumed: bool = False
    """The run carries on after a checkpoint: batches before it were loaded by another run."""
    rows: int = 0
    """How many rows the file has (as estimated when the run started)."""
    read_customer_ids: bool | None = None
    """Whether an orders run reads every customer ID of the store at once (None: not decided
    yet, at its first batch)."""
    customer_ids: pd.Series | None = None
    """Every customer ID of the store → its customer, when the run read them all."""

    def column(self, frame: pd.DataFrame, name: str) -> pd.Series:
        """The mapped column of a batch, or blanks when the field is not mapped."""
        source = self.mapping.get(name)
        if source is None:
            return pd.Series("", index=frame.index, dtype="str")
        return frame[source]

    def problem(
        self, row: int, name: str, value: Any, message: str, severity: str = "error"
    ) -> Problem:
        """A problem with field `name` of a row, labelled as the import kind's fields are."""
        labels = {spec.name: spec.label for spec in FIELDS[self.kind]}
        return {
            "row_number": int(row),
            "field": labels.get(name, name),
            "value": str(value)[:200],
            "message": message[:300],
            "severity": severity,
        }

    def field_problems(
        self, frame: pd.DataFrame, results: dict[str, Cleaned], shown: dict[str, str] | None = None
    ) -> tuple[list[Problem], pd.Series]:
        """A problem for every value its cleaner refused, showing the file's own cell (of the
        column `shown` names instead, for fields derived from another one), and which rows had
        any."""
        shown = shown or {}
        problems: list[Problem] = []
        bad = pd.Series(False, index=frame.index)
        for name, result in results.items():
            hit = result.errors != ""
            if hit.any():
                cells = self.column(frame, shown.get(name, name))
                problems += self._cell_problems(frame, hit, name, cells, result.errors, "error")
                bad |= hit
        return problems, bad

    def field_doubts(
        self, frame: pd.DataFrame, results: dict[str, Cleaned], loaded: pd.Series
    ) -> list[Problem]:
        """A warning for every value its cleaner took but doubts (`Cleaned.doubts`), on the
        rows that are `loaded`, showing the file's own cell."""
        warnings: list[Problem] = []
        for name, result in results.items():
            if result.doubts is not None:
                hit = (result.doubts != "") & loaded
                cells = self.column(frame, name)
                warnings += self._cell_problems(frame, hit, name, cells, result.doubts, "warning")
        return warnings

    def _cell_problems(
        self,
        frame: pd.DataFrame,
        hit: pd.Series,
        name: str,
        cells: pd.Series,
        messages: pd.Series,
        severity: str,
    ) -> list[Problem]:
        """One problem with field `name` for every row where `hit` holds, with its message."""
        rows = frame["_row"]
        return [
            self.problem(rows[i], name, cells[i], messages[i], severity) for i in frame.index[hit]
        ]

    def row_problems(
        self,
        frame: pd.DataFrame,
        checks: Iterable[tuple[pd.Series, str, pd.Series | None, str]],
        bad: pd.Series,
    ) -> tuple[list[Problem], pd.Series]:
        """Whole-row checks (rows where `mask` holds fail, about field `name`, showing `cells`),
        in order, each on the rows no earlier check or field refused. Returns their problems
        and every refused row."""
        rows = frame["_row"]
        problems: list[Problem] = []
        for mask, name, cells, message in checks:
            hit = mask & ~bad
            problems += [
                self.problem(rows[i], name, "" if cells is None else cells[i], message)
                for i in frame.index[hit]
            ]
            bad = bad | hit
        return problems, bad


def row_labels(frame: pd.DataFrame, context: ImportContext) -> pd.Series:
    """Whom each row is about, as the file names them, by row number: 'Ana Lopez', else an
    email, phone or ID; for orders 'order 1042 · ana@example.com'."""

    def cell(field_name: str) -> pd.Series:
        return context.column(frame, field_name).fillna("").astype(str).str.strip()

    name = (cell("first_name") + " " + cell("last_name")).str.strip()
    name = name.where(name != "", cell("full_name"))
    for fallback in ("email", "phone", "external_id", "customer_email", "customer_phone"):
        name = name.where(name != "", cell(fallback))
    customer = name.where(name != "", cell("customer_id"))
    if context.kind == ImportKind.ORDERS:
        order = ("order " + cell("order_id")).where(cell("order_id") != "", "")
        customer = (order + " · " + customer).str.strip(" ·")
    return pd.Series(customer.str.slice(0, 120).to_numpy(), index=frame["_row"].to_numpy())


@dataclass
class BatchResult:
    inserted: int = 0
    updated: int = 0
    skipped: int = 0
    failed: int = 0
    warnings: int = 0
    problems: list[Problem] = field(default_factory=list)
    customer_ids: list[int] = field(default_factory=list)


def first_rows(keys: pd.Series, rows: pd.Series, seen: dict[Any, int]) -> pd.Series:
    """For each row, the row where its key first appeared in the file (itself if it is first),
    remembering new keys in `seen`. Plain lists: a dict lookup per row is the cheap part."""
    setdefault = seen.setdefault
    first = [setdefault(key, row) for key, row in zip(keys.tolist(), rows.tolist(), strict=True)]
    return pd.Series(first, index=rows.index)


class Loader(Protocol[Batch]):
    """How one kind of file loads. `clean` touches no database, so the next batch can be
    cleaned while this one is written."""

    grows: tuple[Table, ...]
    """The tables its batches write and look rows up in (`bulk.keep_statistics`)."""
    set_aside: tuple[Table, ...]
    """The tables whose secondary indexes and foreign keys a big load builds after its rows
    are in rather than row by row (`core.infra.deferred_upkeep`), except the indexes named in
    `looks_up_by`."""
    looks_up_by: frozenset[str]
    """The indexes its batches find rows by, kept however big the load."""

    def clean(self, frame: pd.DataFrame, context: ImportContext) -> Batch:
        """The batch checked and normalised: its good rows and its problems."""

    def check(self, frame: pd.DataFrame, context: ImportContext) -> list[Problem]:
        """The problems of a batch, writing nothing (the preview's check of the first rows)."""

    def remember(self, batch: Batch, context: ImportContext) -> None:
        """Note the keys of an already-committed batch (when resuming after a restart)."""

    def load(self, session: Session, batch: Batch, context: ImportContext) -> BatchResult:
        """Stage and upsert one cleaned batch inside the caller's transaction."""

    def rewrites(self, session: Session, context: ImportContext) -> dict[Table, int]:
        """How many rows of each table `finish` will rewrite (when they are a big share of the
        table, its secondary indexes are set aside for it)."""

    def finish(self, session: Session, context: ImportContext) -> None:
        """Work done once after the last batch (in its own transaction)."""
