"""One segment: the visual rule builder with a live count, its members, and where it is used."""

import json

import streamlit as st

from core import customers, segments
from core.config import get_settings
from core.customers import CustomerFilter
from core.db import session_scope, utc_now
from core.errors import DomainError, NotFound
from core.models import Segment
from core.permissions import Permission
from ui.calls import Done, ask_before, attempt, change, confirmed, not_found, query_id
from ui.context import store_today, store_zone
from ui.flash import flash, show_flash
from ui.formatting import md
from ui.guard import require
from ui.rule_builder import RuleBuilder, clean, tagged
from ui.tables import customer_table, customers_csv, show_customers

STARTER = {"match": "all", "conditions": [{"field": "churn_risk", "op": "in", "value": ["high"]}]}

actor = require(Permission.VIEW)
can_edit = actor.can(Permission.EDIT_DATA)

segment_id = query_id()
segment: Segment | None = None
zone = store_zone()
with session_scope(read_only=True) as session:
    all_names = segments.names(session=session)
    if segment_id is not None:
        try:
            segment = segments.get_segment(session=session, segment_id=segment_id)
        except NotFound as exc:
            not_found(
                "Segment not found",
                str(exc),
                back="pages/segments.py",
                label="Back to Segments",
                icon=":material/filter_alt:",
            )

if segment is None and not can_edit:
    st.title("Segment")
    st.info("Pick a segment from the Segments page.")
    st.stop()

# The draft lives in the session until saved, one per segment (and one for a new segment).
STATE = f"segment_draft_{segment_id or 'new'}"
if STATE not in st.session_state:
    rules = STARTER if segment is None else segment.rules
    st.session_state[STATE] = {
        "name": segment.name if segment else "",
        "description": segment.description if segment else "",
        "rules": tagged(rules) if rules else None,
    }
draft = st.session_state[STATE]
dynamic = draft["rules"] is not None

st.title(md(segment.name) if segment else "New segment")
show_flash()
if segment:
    kind = "rule-based, refreshed nightly and after imports" if dynamic else "hand-picked"
    st.caption(f"{segment.member_count:,} customers · {kind}")


@st.cache_data(ttl=30, show_spinner=False)
def live_count(database_url: str, rules_json: str) -> tuple[int | None, str]:
    """(count, the rule in words), or (None, why the rule cannot run)."""
    try:
        with session_scope(read_only=True) as session:
            return (
                segments.count_matching(session=session, rules=rules_json, now=utc_now()),
                segments.describe_rules(session=session, rules=rules_json),
            )
    except DomainError as exc:
        return None, str(exc)


def json_tools() -> None:
    """Edit the rule as JSON, or start from another segment's rule."""
    with st.expander("Rules as JSON, or copy the rules of another segment"):
        text = st.text_area("JSON", json.dumps(clean(draft["rules"]), indent=2), height=200)
        if st.button("Use this JSON"):
            try:
                draft["rules"] = tagged(json.loads(text))
            except (json.JSONDecodeError, TypeError, AttributeError) as exc:
                st.error(f"That is not a rule tree: {exc}")
            else:
                st.rerun()
        with session_scope(read_only=True) as session:
            sources = {s.id: s.rules for s in segments.list_segments(session=session) if s.rules}
        source = st.selectbox(
            "Copy the rules of",
            [None, *sources],
            format_func=lambda i: "—" if i is None else all_names[i],
        )
        if source is not None and st.button("Copy these rules"):
            draft["rules"] = tagged(sources[source])
            st.rerun()


def save() -> Done[Segment] | None:
    """Create or update the segment from the draft."""
    return attempt(
        lambda s: segments.save_segment(
            session=s,
            actor=actor,
            segment_id=None if segment is None else segment.id,
            name=draft["name"],
            description=draft["description"],
            rules=clean(draft["rules"]) if dynamic else None,
            now=utc_now(),
        )
    )


def editor() -> None:
    if dynamic:
        RuleBuilder(all_names, segment_id).draw(draft["rules"])
        count, summary = live_count(get_settings().database_url, json.dumps(clean(draft["rules"])))
        if count is None:
            st.error(summary)
        else:
            st.metric("Customers matching now", f"{count:,}")
            st.markdown(f"_{md(summary)}_")
        json_tools()
    else:
        st.info(
            "A hand-picked segment: add customers from the Customers list "
            "(select them, then 'Add to segment')."
        )
    with st.form("segment_details"):
        draft["name"] = st.text_input("Name", draft["name"])
        draft["description"] = st.text_area("Description", draft["description"], height=80)
        if st.form_submit_button("Save segment", type="primary") and (saved := save()):
            st.session_state.pop(STATE, None)  # the draft is the segment now
            flash(f"Saved, with {saved.value.member_count:,} customers.")
            st.switch_page("pages/segment.py", query_params={"id": str(saved.value.id)})
    if segment is None:
        return
    refresh, remove = st.columns(2)
    if dynamic and refresh.button("Refresh members now", icon=":material/refresh:"):
        change(
            lambda s: segments.refresh_segment(
                session=s, actor=actor, segment_id=segment.id, now=utc_now()
            ),
            lambda members: f"Refreshed: {members:,} customers.",
        )
    if remove.button("Delete segment", icon=":material/delete:"):
        ask_before(f"delete_segment_{segment.id}")
    if confirmed(
        f"delete_segment_{segment.id}",
        f"Delete “{segment.name}” for good? Its customers stay; only the segment goes.",
    ):
        change(
            lambda s: segments.delete_segment(session=s, actor=actor, segment_id=segment.id),
            f"Deleted “{segment.name}”.",
            page="pages/segments.py",
        )


def members(segment: Segment) -> None:
    page_key = f"members_page_{segment.id}"
    filters = CustomerFilter(segment_id=segment.id)
    with session_scope(read_only=True) as session:
        page = customers.list_customers(
            session=session,
            filters=filters,
            page=st.session_state.get(page_key, 1),
            today=store_today(),
        )
        table = customer_table(page, zone)
    if table.empty:
        st.info("No members right now.")
        return
    show_customers(table, key=f"members_{segment.id}")
    previous, label, following = st.columns([1, 2, 1])
    if previous.button("◀ Previous", disabled=page.page <= 1, key="members_previous"):
        st.session_state[page_key] = page.page - 1
        st.rerun()
    label.caption(f"Page {page.page} of {page.pages}")
    if following.button("Next ▶", disabled=not page.has_next, key="members_next"):
        st.session_state[page_key] = page.page + 1
        st.rerun()
    if actor.can(Permission.EXPORT_DATA):
        st.download_button(
            "Export members (CSV)",
            lambda: customers_csv(actor, filters),
            f"{segment.name}.csv",
            "text/csv",
            icon=":material/download:",
        )


def used_by(segment: Segment) -> None:
    with session_scope(read_only=True) as session:
        users = segments.used_by_campaigns(session=session, segment_id=segment.id)
        listed = [(c.id, c.name, c.status, segment.id in c.excluded_segment_ids) for c in users]
    if not listed:
        st.caption("No campaign targets or excludes this segment.")
    for campaign_id, name, status, excluded in listed:
        st.page_link(
            "pages/campaign.py",
            label=f"{name} · {status}" + (" · excluded" if excluded else ""),
            icon=":material/campaign:",
            query_params={"id": str(campaign_id)},
        )


rules_tab, members_tab, used_tab = st.tabs(["Rules", "Members", "Used by"])
with rules_tab:
    if can_edit:
        editor()
    elif dynamic:
        with session_scope(read_only=True) as session:
            st.markdown(segments.describe_rules(session=session, rules=segment.rules))
    else:
        st.caption("A hand-picked segment.")
with members_tab:
    if segment is None:
        st.caption("Save the segment to see its members.")
    else:
        members(segment)
with used_tab:
    if segment is None:
        st.caption("Save the segment first.")
    else:
        used_by(segment)
