"""Actions: the customers to contact first, with the offer and the reasons; approve or skip."""

import io

import pandas as pd
import streamlit as st

from core import campaigns
from core.campaigns import actions
from core.campaigns.actions import ActionFilter
from core.db import session_scope
from core.models import ActionStatus, Audience, Channel
from core.permissions import Permission
from jobs import flows
from ui.calls import attempt_flow, query_id
from ui.context import store_zone
from ui.flash import flash, show_flash
from ui.formatting import when
from ui.guard import require
from ui.jobs import follow_job

actor = require(Permission.VIEW)
can_run = actor.can(Permission.RUN_CAMPAIGNS)
st.title("Actions")
show_flash()
follow_job("actions_job", done_message="Actions are ready.")

zone = store_zone()
with session_scope(read_only=True) as session:
    with_plans = [c for c in campaigns.list_campaigns(session=session) if c.steps]
    planned = {c.id: c.name for c in with_plans}
    planned_audience = {c.id: c.audience for c in with_plans}
if not planned:
    st.info("Actions come from a campaign's plan: create and plan a campaign first.")
    st.page_link("pages/campaigns.py", label="Campaigns", icon=":material/campaign:")
    st.stop()

wanted = query_id("campaign")
ids = list(planned)
default = ids.index(wanted) if wanted in planned else 0
left, middle, right = st.columns([3, 2, 2])
campaign_id = left.selectbox("Campaign", ids, default, format_func=planned.get)
status = middle.selectbox(
    "Status", [None, *ActionStatus], format_func=lambda s: "Any" if s is None else s.title()
)
channel = right.selectbox(
    "Channel", [None, *Channel], format_func=lambda c: "Any" if c is None else c.value
)

with session_scope(read_only=True) as session:
    run = actions.latest_run(session=session, campaign_id=campaign_id)
    filters = ActionFilter(campaign_id=campaign_id, run_id=run, status=status, channel=channel)
    counts = actions.count_actions(
        session=session, filters=ActionFilter(campaign_id=campaign_id, run_id=run)
    )
    listed = actions.list_actions(session=session, filters=filters, limit=1000) if run else []
    table = pd.DataFrame(
        [
            {
                "id": a.id,
                "Priority": a.priority,
                "Customer": c.full_name,
                "Channel": a.channel,
                "Offer": a.offer_description,
                "Due": when(a.due_at, zone, with_time=True),
                "Why": "; ".join(a.reasons),
                "Status": a.status,
                "Outcome": a.outcome,
            }
            for a, c in listed
        ]
    )

figures = st.columns(5)
figures[0].metric("Actions", f"{sum(counts.values()):,}")
for column, state in zip(figures[1:], ("proposed", "approved", "skipped", "done"), strict=True):
    column.metric(state.title(), f"{counts.get(state, 0):,}")
if planned_audience.get(campaign_id) == Audience.APPROVED:
    st.caption(
        "This campaign messages approved actions only: each approval is sent at its due time "
        "with the customer's own offer; skipped and proposed customers get nothing."
    )
else:
    st.caption(
        "This campaign messages everyone reachable in its segments, except customers you skip."
    )

if can_run and st.button("Prepare a new run of actions", icon=":material/refresh:"):
    st.session_state["actions_job"] = flows.prepare_actions(actor=actor, campaign_id=campaign_id)
    st.rerun()

if table.empty:
    st.info("No actions yet for this campaign." if not run else "No actions match.")
    st.stop()

picked = st.dataframe(
    table.drop(columns="id"),
    hide_index=True,
    width="stretch",
    on_select="rerun",
    selection_mode="multi-row",
    key="action_table",
    column_config={
        "Priority": st.column_config.ProgressColumn(min_value=0, max_value=100, format="%.0f")
    },
)
chosen = [int(table.iloc[i]["id"]) for i in picked.selection.rows]


def decide(ids: list[int], to: ActionStatus) -> None:
    outcome = attempt_flow(lambda: flows.decide_actions(actor=actor, action_ids=ids, status=to))
    if outcome is not None:
        flash(
            f"{outcome.value:,} actions {'marked done' if to == ActionStatus.DONE else to.value}."
        )
        st.rerun()


if can_run:
    buttons = st.columns(4)
    if buttons[0].button(f"Approve {len(chosen)} selected", disabled=not chosen):
        decide(chosen, ActionStatus.APPROVED)
    if buttons[1].button(f"Skip {len(chosen)} selected", disabled=not chosen):
        decide(chosen, ActionStatus.SKIPPED)
    proposed = table.loc[table["Status"] == ActionStatus.PROPOSED, "id"].astype(int).tolist()
    if buttons[2].button(f"Approve all {len(proposed)} proposed", disabled=not proposed):
        decide(proposed, ActionStatus.APPROVED)
    approved = set(table.loc[table["Status"] == ActionStatus.APPROVED, "id"].astype(int))
    done_by_hand = [i for i in chosen if i in approved]
    if buttons[3].button(
        f"Mark {len(done_by_hand)} done",
        disabled=not done_by_hand,
        help="For a call made or a word in the store: approved actions only.",
    ):
        decide(done_by_hand, ActionStatus.DONE)


def actions_csv() -> bytes:
    out = io.StringIO()
    with session_scope(read_only=True) as session:
        actions.export_actions(session=session, out=out, filters=filters)
    return ("\ufeff" + out.getvalue()).encode()


st.download_button(
    "Export (CSV)",
    actions_csv,
    f"actions-{campaign_id}.csv",
    "text/csv",
    icon=":material/download:",
)
