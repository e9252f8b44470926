"""Import customers or orders: upload, preview, map the columns, check, load in the background."""

from pathlib import Path

import pandas as pd
import streamlit as st

from core import imports
from core.config import get_settings
from core.db import session_scope, utc_now
from core.errors import DomainError
from core.imports.files import UnusableFile, inspect_file
from core.models import ImportKind, ImportStatus
from core.permissions import Permission
from jobs import flows
from ui.calls import attempt, attempt_flow
from ui.context import store_zone
from ui.flash import show_flash
from ui.formatting import md, when
from ui.guard import require
from ui.jobs import follow_job

actor = require(Permission.EDIT_DATA)
st.title("Import data")
st.caption(
    "Bring customers and orders from your point-of-sale as CSV or Excel. Good rows go in; "
    "rows with problems are listed with the reason, and importing the same file again "
    "updates instead of duplicating."
)
show_flash()
NOT_IN_FILE = "— not in this file —"
STATUS_WORDS = {
    ImportStatus.READY: "waiting to start",
    ImportStatus.RUNNING: "loading",
    ImportStatus.SUCCEEDED: "finished",
    ImportStatus.FAILED: "stopped",
}

follow_job("import_job", done_message="Import finished.")
zone = store_zone()

if "import_job" not in st.session_state:
    for stopped in flows.resumable_imports():
        with st.container(border=True):
            text, action = st.columns([4, 1], vertical_alignment="center")
            text.markdown(
                f"**{md(stopped.filename)}** stopped at row {stopped.checkpoint_row:,} "
                f"({stopped.inserted:,} added, {stopped.updated:,} updated)  \n"
                + md(stopped.error or "Interrupted: the process loading it stopped.")
            )
            if action.button("Resume", key=f"resume_{stopped.id}", icon=":material/play_arrow:"):
                started = attempt_flow(
                    lambda i=stopped.id: flows.start_import(actor=actor, import_id=i)
                )
                if started is not None:
                    st.session_state["import_job"] = started.value
                    st.session_state["last_import"] = stopped.id
                    st.rerun()
with session_scope(read_only=True) as session:
    recent = imports.recent_imports(session=session, limit=10)
if recent:
    with st.expander("Recent imports"):
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "When": when(r.created_at, zone, with_time=True),
                        "File": r.filename,
                        "Kind": r.kind,
                        "Status": r.status,
                        "Added": r.inserted,
                        "Updated": r.updated,
                        "Failed": r.failed,
                    }
                    for r in recent
                    if r.status != ImportStatus.READY
                ]
            ),
            hide_index=True,
            width="stretch",
        )

if last := st.session_state.get("last_import"):
    with session_scope(read_only=True) as session:
        row = imports.get_import(session=session, import_id=last)
        counts = imports.problem_counts(session=session, import_id=last)
        sample = imports.problems(session=session, import_id=last, limit=200)
        report = imports.problems_csv(session=session, import_id=last) if sample else ""
    finished = row.status in (ImportStatus.SUCCEEDED, ImportStatus.FAILED)
    with st.container(border=True):
        st.markdown(f"#### {md(row.filename)} — {STATUS_WORDS[row.status]}")
        if row.status == ImportStatus.FAILED:
            st.error(row.error or "The import failed.")
        if not finished:
            st.caption(
                f"{row.processed_rows:,} rows read so far. What was added, updated and refused "
                "shows here when it is done; you can leave this page meanwhile."
            )
            st.stop()
        columns = st.columns(5)
        for column, (label, value) in zip(
            columns,
            [
                ("Added", row.inserted),
                ("Updated", row.updated),
                ("Skipped", row.skipped),
                ("Failed", row.failed),
                ("Warnings", row.warnings),
            ],
            strict=True,
        ):
            column.metric(label, f"{value:,}")
        if sample:
            st.dataframe(
                pd.DataFrame(
                    [
                        {
                            "Row": p.row_number,
                            "About": p.who,
                            "Kind": p.severity,
                            "Field": p.field,
                            "Value": p.value,
                            "Reason": p.message,
                        }
                        for p in sample
                    ]
                ),
                hide_index=True,
                width="stretch",
            )
            st.download_button(
                "Download all problem rows (CSV)",
                data=report,
                file_name=f"{row.filename}.problems.csv",
                mime="text/csv",
                icon=":material/download:",
            )
        if st.button("Import another file"):
            st.session_state.pop("last_import")
            st.rerun()
    st.stop()

kind = st.radio(
    "What is in the file?",
    list(ImportKind),
    format_func=lambda k: "Customers" if k == ImportKind.CUSTOMERS else "Orders",
    horizontal=True,
)
upload = st.file_uploader(
    "File",
    type=["csv", "txt", "tsv", "xlsx"],
    max_upload_size=get_settings().import_max_upload_mb,  # the cap the import keeps, shown
)
if upload is None:
    sample_name, sample = imports.sample_file(kind)
    st.download_button(
        f"Download a sample {'customer' if kind == ImportKind.CUSTOMERS else 'order'} file",
        data=sample,
        file_name=sample_name,
        mime="text/csv",
        icon=":material/download:",
        help="The columns Last Call understands, with a few example rows: fill it in, or "
        "compare it with your point-of-sale's export.",
    )
    st.stop()

# Keep one stored copy per uploaded file, however often the page reruns.
if st.session_state.get("upload_id") != upload.file_id:
    stored = attempt_flow(lambda: imports.store_upload(upload.getvalue(), upload.name))
    if stored is None:
        st.stop()
    st.session_state["upload_id"] = upload.file_id
    st.session_state["upload_path"] = str(stored.value)
path = st.session_state["upload_path"]

try:
    shape = inspect_file(Path(path))
except UnusableFile as exc:
    st.error(f"This file cannot be imported: {exc}")
    st.stop()

st.markdown("#### Preview")
st.dataframe(pd.DataFrame(shape.preview, columns=shape.header), hide_index=True, width="stretch")
st.caption(
    f"First {len(shape.preview)} rows · {len(shape.header)} columns · "
    f"{'Excel' if shape.kind == 'xlsx' else f'CSV ({shape.encoding})'}"
)

st.markdown("#### Columns")
suggested = imports.suggest_mapping(kind, shape.header)
choices = [NOT_IN_FILE, *shape.header]
mapping: dict[str, str] = {}
fields = imports.FIELDS[kind]
grid = st.columns(3)
for index, field in enumerate(fields):
    default = suggested.get(field.name, NOT_IN_FILE)
    picked = grid[index % 3].selectbox(
        field.label,
        choices,
        index=choices.index(default),
        help=field.help or None,
        key=f"map_{kind}_{field.name}",
    )
    if picked != NOT_IN_FILE:
        mapping[field.name] = picked

options = {}
if kind == ImportKind.CUSTOMERS:
    options["birth_dates_verified"] = st.checkbox(
        "Birth dates in this file were checked against ID at the till",
        help="Only customers whose age was verified receive marketing.",
    )
else:
    options["create_customers"] = st.checkbox(
        "Create a customer for orders whose customer is not known yet"
    )

if unused := imports.unused_columns(mapping, shape.header):
    st.caption(
        f"Not imported ({len(unused)} column{'s' if len(unused) != 1 else ''}): "
        + ", ".join(md(column) for column in unused)
    )

try:
    imports.check_mapping(kind, mapping, shape.header)
except DomainError as exc:
    st.warning(str(exc))
    st.stop()

with session_scope(read_only=True) as session:
    findings = imports.validate_sample(
        session=session, kind=kind, path=Path(path), mapping=mapping, options=options, now=utc_now()
    )

checked = (
    f"all {findings.rows:,} rows" if findings.whole_file else f"the first {findings.rows:,} rows"
)
st.markdown("#### Check")
if findings.problems:
    st.caption(f"Checked {checked} of the file without loading anything:")
    st.dataframe(
        pd.DataFrame([{"Problem": k, "Rows": v} for k, v in findings.problems.items()]),
        hide_index=True,
        width="stretch",
    )
else:
    st.success(f"Checked {checked}: they look good.")

if st.button("Start import", type="primary", disabled="import_job" in st.session_state):
    prepared = attempt(
        lambda s: (
            imports.prepare_import(
                session=s,
                actor=actor,
                kind=kind,
                path=Path(path),
                filename=upload.name,
                mapping=mapping,
                options=options,
            ).id
        )
    )
    if prepared is None:
        st.stop()
    started = attempt_flow(lambda: flows.start_import(actor=actor, import_id=prepared.value))
    if started is None:
        st.stop()
    st.session_state["import_job"] = started.value
    st.session_state["last_import"] = prepared.value
    st.rerun()
