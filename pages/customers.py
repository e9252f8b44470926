"""Customers: search, filter, sort, page through, act on a selection, export."""

import pandas as pd
import streamlit as st

from core import customers, segments
from core.customers import ChurnRisk, ConsentFilter, CustomerFilter, SortKey
from core.db import session_scope, utc_now
from core.permissions import Permission
from ui.calls import ask_before, attempt, change, confirmed
from ui.context import store_today, store_zone
from ui.flash import show_flash
from ui.guard import require
from ui.tables import customer_table, customers_csv, show_customers

actor = require(Permission.VIEW)
can_edit = actor.can(Permission.EDIT_DATA)

st.title("Customers")
show_flash()

if can_edit:
    with st.expander("Add a customer"), st.form("new_customer", clear_on_submit=True):
        left, right = st.columns(2)
        first_name = left.text_input("First name")
        last_name = right.text_input("Last name")
        email = left.text_input("Email")
        phone = right.text_input("Phone")
        birth_date = left.date_input(
            "Date of birth", value=None, min_value=pd.Timestamp("1900-01-01")
        )
        zip_code = right.text_input("ZIP code")
        if st.form_submit_button("Add customer", type="primary"):
            fields = {
                "first_name": first_name,
                "last_name": last_name,
                "email": email,
                "phone": phone,
                "birth_date": birth_date,
                "zip": zip_code,
            }
            change(
                lambda s: (
                    customers.create_customer(session=s, actor=actor, now=utc_now(), **fields).id
                ),
                "Customer added.",
                page="pages/customer.py",
                query_params=lambda new_id: {"id": str(new_id)},
            )

SORTS = {
    "Most recent order": (SortKey.LAST_ORDER, True),
    "Newest customers": (SortKey.CREATED, True),
    "Highest spend": (SortKey.SPENT, True),
    "Longest since last order": (SortKey.LAST_ORDER, False),
    "Last name A–Z": (SortKey.NAME, False),
}
CONSENT_CHOICES = {
    "Anyone": None,
    "Can be emailed": ConsentFilter.EMAIL,
    "Can be texted": ConsentFilter.SMS,
    "Email or text": ConsentFilter.ANY,
    "No marketing consent": ConsentFilter.NONE,
}

with session_scope(read_only=True) as session:
    all_segments = segments.list_segments(session=session)
    segment_names = {s.id: s.name for s in all_segments}
    static = {s.id: s.name for s in all_segments if s.kind == segments.SegmentKind.STATIC}

search = st.text_input(
    "Search",
    placeholder="Name, email or phone — press Enter",
    label_visibility="collapsed",
    max_chars=customers.MAX_SEARCH_CHARS,
    key="customer_search",
)
with st.expander("Filters and sorting", expanded=False):
    left, middle, right = st.columns(3)
    segment_id = left.selectbox(
        "Segment",
        [None, *segment_names],
        format_func=lambda i: "All customers" if i is None else segment_names[i],
        key="customer_segment",
    )
    risks = middle.multiselect(
        "Churn risk",
        list(ChurnRisk),
        format_func=lambda r: "Not scored yet" if r == ChurnRisk.UNSCORED else r.title(),
        key="customer_risk",
    )
    consent_label = right.selectbox("Consent", list(CONSENT_CHOICES), key="customer_consent")
    left, middle, right = st.columns(3)
    city = left.text_input("City", key="customer_city")
    zip_prefix = middle.text_input("ZIP starts with", max_chars=5, key="customer_zip")
    sort_label = right.selectbox("Sort by", list(SORTS), key="customer_sort")
    show_deleted = st.toggle("Show deleted customers (to restore them)", key="customer_deleted")

filters = CustomerFilter(
    search=search,
    segment_id=segment_id,
    churn_risk=tuple(risks),
    consent=CONSENT_CHOICES[consent_label],
    city=city,
    zip_prefix=zip_prefix,
    deleted=show_deleted,
)
# A new search or filter starts again at page one.
if st.session_state.get("customer_filters") != filters:
    st.session_state["customer_filters"] = filters
    st.session_state["customer_page"] = 1

sort, descending = SORTS[sort_label]


listed = attempt(
    lambda s: customers.list_customers(
        session=s,
        filters=filters,
        sort=sort,
        descending=descending,
        page=st.session_state.get("customer_page", 1),
        today=store_today(),
    ),
    read_only=True,
)
if listed is None:
    st.stop()
page = listed.value
table = customer_table(page, store_zone())

if table.empty:
    if filters == CustomerFilter():
        st.info("No customers yet. Import them from your point-of-sale, or load the demo store.")
        if can_edit:
            st.page_link(
                "pages/imports.py", label="Import customers", icon=":material/upload_file:"
            )
    else:
        st.info("No customers match. Try fewer filters or another search.")
    st.stop()

count = f"{page.total:,}" if page.exact else f"More than {page.total:,}"
of_pages = f"of {page.pages}" if page.exact else ""
st.caption(
    f"{count} customer{'s' if page.total != 1 else ''}{' found' if search else ''}"
    f" · page {page.page} {of_pages}".rstrip()
)
chosen = show_customers(table, key="customer_table", pick_rows=True)
st.caption(
    "Click a name to open the profile; tick rows to export, delete or add them to a segment."
)

previous, label, following = st.columns([1, 2, 1])
if previous.button("◀ Previous", disabled=page.page <= 1, width="stretch"):
    st.session_state["customer_page"] = page.page - 1
    st.rerun()
label.markdown(
    f"<div style='text-align:center'>Page {page.page} {of_pages}</div>", unsafe_allow_html=True
)
if following.button("Next ▶", disabled=not page.has_next, width="stretch"):
    st.session_state["customer_page"] = page.page + 1
    st.rerun()

with st.container(border=True):
    st.markdown(f"**{len(chosen)} selected**" if chosen else "**Export or act on customers**")
    bom = st.checkbox("For Excel (UTF-8 with BOM)", value=True)
    left, right = st.columns(2)
    if actor.can(Permission.EXPORT_DATA) and not show_deleted:
        left.download_button(
            "Export this list" if not chosen else "Export selected",
            data=lambda: customers_csv(actor, filters, chosen or None, bom=bom),
            file_name="customers.csv",
            mime="text/csv",
            icon=":material/download:",
            width="stretch",
        )
    if chosen and can_edit:
        if show_deleted:
            if right.button("Restore selected", width="stretch"):
                change(
                    lambda s: [
                        customers.restore(session=s, actor=actor, customer_id=customer_id)
                        for customer_id in chosen
                    ],
                    f"Restored {len(chosen)} customers.",
                )
        elif right.button("Delete selected", width="stretch"):
            ask_before("delete_customers", chosen)
    if doomed := confirmed(
        "delete_customers",
        lambda doomed: (
            f"Delete {len(doomed)} customers? They disappear from lists and sends; "
            "their orders stay, and they can be restored."
        ),
    ):
        change(
            lambda s: customers.soft_delete(
                session=s, actor=actor, customer_ids=doomed, now=utc_now()
            ),
            lambda done: f"Deleted {done} customers.",
        )
    if chosen and can_edit and not show_deleted:
        with st.form("add_to_segment", clear_on_submit=True):
            target = st.selectbox(
                "Add to segment",
                [None, *static],
                format_func=lambda i: "A new segment…" if i is None else static[i],
            )
            new_name = st.text_input("New segment name (when creating one)")
            if st.form_submit_button("Add to segment"):
                change(
                    lambda s: segments.add_to_static_segment(
                        session=s,
                        actor=actor,
                        segment_id=target,
                        new_name=new_name,
                        customer_ids=chosen,
                        now=utc_now(),
                    ),
                    lambda added: f"Added {added} customers to the segment.",
                )

with st.expander("Possible duplicates (same email or phone)"):
    with session_scope(read_only=True) as session:
        groups = customers.duplicate_groups(session=session, limit=20)
    if not groups:
        st.caption("None found.")
    for shared, ids in groups:
        links = st.columns(min(len(ids), 6) + 1)
        links[0].markdown(f"`{shared}`")
        for column, customer_id in zip(links[1:], ids, strict=False):
            column.page_link(
                "pages/customer.py", label=f"#{customer_id}", query_params={"id": str(customer_id)}
            )
