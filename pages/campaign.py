"""One campaign: the builder while it is a draft; then its overview, plan, status and controls."""

import pandas as pd
import streamlit as st

from core import analytics, attribution, campaigns, segments
from core.analytics import charts
from core.campaigns import TYPE_LABELS, actions
from core.db import session_scope, utc_now
from core.errors import NotFound
from core.infra.money import format_cents
from core.models import Audience, Campaign, CampaignStatus, CampaignType, StepStatus
from core.permissions import Permission
from jobs import flows
from ui import abtest
from ui.calls import ask_before, attempt_flow, change, confirmed, not_found, query_id
from ui.campaign_builder import Builder
from ui.charts import plan_timeline
from ui.context import store_zone
from ui.figures import campaign_figures, campaign_results
from ui.flash import flash, show_flash
from ui.formatting import md, status_badge, when
from ui.guard import live, require
from ui.jobs import follow_job

actor = require(Permission.VIEW)
can_run = actor.can(Permission.RUN_CAMPAIGNS)
zone = store_zone()

campaign_id = query_id()
campaign: Campaign | None = None
if campaign_id is not None:
    with session_scope(read_only=True) as session:
        try:
            campaign = campaigns.get_campaign(session=session, campaign_id=campaign_id)
        except NotFound as exc:
            not_found(
                "Campaign not found",
                str(exc),
                back="pages/campaigns.py",
                label="Campaigns",
                icon=":material/arrow_back:",
            )
        campaign.steps  # noqa: B018 - load the plan before the session closes
        names = segments.names(session=session)

if campaign is None and not can_run:
    st.title("Campaign")
    st.info("Pick a campaign from the list.")
    st.stop()

S = CampaignStatus
CONTROLS = {
    S.SCHEDULED: [("Start now", S.RUNNING), ("Unschedule", S.DRAFT), ("Archive", S.ARCHIVED)],
    S.RUNNING: [("Pause", S.PAUSED), ("Complete", S.COMPLETED)],
    S.PAUSED: [("Resume", S.RUNNING), ("Archive", S.ARCHIVED)],
    S.COMPLETED: [("Archive", S.ARCHIVED)],
}


def header(campaign: Campaign) -> None:
    st.title(md(campaign.name))
    st.markdown(
        f"{status_badge(campaign.status)} {TYPE_LABELS[CampaignType(campaign.type)]} · "
        f"{when(campaign.starts_at, zone, with_time=True)} – {when(campaign.ends_at, zone)}"
    )
    if campaign.status_note:
        st.caption(md(campaign.status_note))


def move(campaign: Campaign, to: CampaignStatus, note: str = "") -> None:
    outcome = attempt_flow(
        lambda: flows.move_campaign(actor=actor, campaign_id=campaign.id, to=to, note=note)
    )
    if outcome is None:
        return
    if outcome.value.actions_job:
        st.session_state["actions_job"] = outcome.value.actions_job
    flash(f"“{campaign.name}” is {outcome.value.status} now.")
    st.rerun()


def duplicate(campaign: Campaign) -> None:
    change(
        lambda s: campaigns.duplicate_campaign(session=s, actor=actor, campaign_id=campaign.id).id,
        "A copy was made as a new draft.",
        page="pages/campaign.py",
        query_params=lambda copy_id: {"id": str(copy_id)},
    )


def controls(campaign: Campaign) -> None:
    buttons = CONTROLS.get(S(campaign.status), [])
    columns = st.columns(len(buttons) + 2)
    for column, (label, to) in zip(columns, buttons, strict=False):
        if column.button(label, key=f"move_{to}"):
            move(campaign, to, note=f"{label} by {actor.email}.")
    if columns[-2].button("Duplicate", icon=":material/content_copy:"):
        duplicate(campaign)


@live(run_every=5.0)
def live_status(campaign_id: int) -> None:
    """Status and action counts, refreshed every few seconds while the page is open."""
    with session_scope(read_only=True) as session:
        current = campaigns.get_campaign(session=session, campaign_id=campaign_id)
        run = actions.latest_run(session=session, campaign_id=campaign_id)
        counts = (
            actions.count_actions(session=session, filters=actions.ActionFilter(run_id=run))
            if run
            else {}
        )
        status, started = current.status, current.started_at
    figures = st.columns(4)
    figures[0].metric("Status", status.title())
    figures[1].metric("Started", f"{started.astimezone(zone):%b %d, %H:%M}" if started else "—")
    figures[2].metric("Actions", f"{sum(counts.values()):,}")
    figures[3].metric("Approved", f"{counts.get('approved', 0):,}")


def overview(campaign: Campaign) -> None:
    live_status(campaign.id)
    figures = st.columns(3)
    figures[0].metric("Sends planned", len(campaign.steps))
    figures[1].metric("Messages planned", f"{sum(s.expected_reach for s in campaign.steps):,}")
    figures[2].metric(
        "Sending cost", format_cents(sum(s.expected_cost_cents for s in campaign.steps))
    )
    st.caption("Revenue per campaign comes once orders are matched to messages (attribution).")
    targets = ", ".join(md(names.get(i, "?")) for i in campaign.segment_ids)
    st.caption(f"Segments: {targets} · channels: {', '.join(campaign.channels)}")
    if campaign.goal:
        st.markdown(f"**Goal** · {md(campaign.goal)}")


def plan_tab(campaign: Campaign) -> None:
    if not campaign.steps:
        st.info("No plan.")
        return
    st.caption(md(campaign.plan_note.splitlines()[0]) if campaign.plan_note else "")
    with session_scope(read_only=True) as session:
        days = campaigns.campaign_days(session=session, campaign=campaign, now=utc_now())
    st.plotly_chart(plan_timeline(campaign.steps, names, days), width="stretch")
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "Day": step.day,
                    "Time (local)": step.local_time,
                    "Segment": names.get(step.segment_id or 0, "—"),
                    "Channel": step.channel,
                    "Offer": campaigns.describe_offer(
                        step.offer_kind, step.offer_value, step.offer_category
                    ),
                    "Angle": step.angle,
                    "Reach": step.expected_reach,
                    "Cost": format_cents(step.expected_cost_cents),
                    "Status": step.status,
                }
                for step in campaign.steps
            ]
        ),
        hide_index=True,
        width="stretch",
    )


def actions_tab(campaign: Campaign) -> None:
    follow_job("actions_job", done_message="Actions are ready.")
    with session_scope(read_only=True) as session:
        run = actions.latest_run(session=session, campaign_id=campaign.id)
        top = (
            actions.list_actions(
                session=session, filters=actions.ActionFilter(run_id=run), limit=20
            )
            if run
            else []
        )
        rows = [
            {
                "Priority": a.priority,
                "Customer": c.full_name,
                "Channel": a.channel,
                "Offer": a.offer_description,
                "Due": when(a.due_at, zone, with_time=True),
                "Why": "; ".join(a.reasons),
                "Status": a.status,
            }
            for a, c in top
        ]
    if rows:
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
        st.page_link(
            "pages/actions.py",
            label="All actions: approve, skip, export",
            icon=":material/checklist:",
            query_params={"campaign": str(campaign.id)},
        )
    elif campaign.status in (S.DRAFT, S.SCHEDULED):
        st.info("Actions are prepared when the campaign starts.")
    if can_run and campaign.steps and st.button("Prepare actions again"):
        st.session_state["actions_job"] = flows.prepare_actions(
            actor=actor, campaign_id=campaign.id
        )
        st.rerun()


def campaign_activity(activity: analytics.CampaignActivity) -> None:
    """Day by day, by segment, and every event reported."""
    st.subheader("Activity")
    st.plotly_chart(charts.activity_figure(activity.daily), width="stretch")
    st.markdown("**By segment**")
    by_segment = activity.segments
    st.dataframe(
        pd.DataFrame(
            {
                "Segment": by_segment["segment"],
                "Targeted": by_segment["targeted"],
                "Sent": by_segment["sent"],
                "Clicked": by_segment["clicked"],
                "Unsubscribed": by_segment["unsubscribed"],
                "Codes redeemed": by_segment["redeemed"],
                "Revenue by code": by_segment["code_revenue_cents"] / 100,
            }
        ),
        hide_index=True,
        width="stretch",
        column_config={"Revenue by code": st.column_config.NumberColumn(format="dollar")},
    )
    st.markdown("**Events reported**")
    if activity.events.empty:
        st.caption("No provider or customer event yet (test mode reports none).")
    else:
        st.dataframe(
            activity.events.rename(
                columns={"type": "Event", "count": "Count", "first": "First", "last": "Last"}
            ),
            hide_index=True,
            width="stretch",
            column_config={
                "First": st.column_config.DatetimeColumn(format="MMM D, h:mm a"),
                "Last": st.column_config.DatetimeColumn(format="MMM D, h:mm a"),
            },
        )


@live(run_every=5.0)
def performance_tab(campaign_id: int) -> None:
    """The campaign's figures, refreshed every few seconds while it sends."""
    with session_scope(read_only=True) as session:
        results = attribution.campaign_results(
            session=session, campaign_ids=[campaign_id], now=utc_now()
        )[campaign_id]
        model = attribution.get_attribution_settings(session=session).model
        current = campaigns.get_campaign(session=session, campaign_id=campaign_id)
        waiting = [s for s in current.steps if s.status == StepStatus.PLANNED]
        audience = current.audience
    fared = results.figures
    if not fared.targeted:
        if audience == Audience.APPROVED:
            st.info("This campaign messages approved actions only: approve some under Actions.")
        elif waiting:
            first = min(waiting, key=lambda s: (s.day, s.local_time))
            st.info(
                f"Nothing written yet: the first send is {first.day:%a %b %d} at "
                f"{first.local_time}, each recipient's time. Its messages are written the day "
                "before (at once when it is due sooner) and show here as they go."
            )
        else:
            st.info("Nobody could be messaged by this campaign's sends.")
        return
    campaign_figures(fared, detailed=True)
    st.subheader("Results")
    campaign_results(results, model)
    if fared.sent:
        with session_scope(read_only=True) as session:
            activity = analytics.campaign_activity(
                session=session, campaign_id=campaign_id, zone=zone
            )
        campaign_activity(activity)
    st.page_link(
        "pages/messages.py",
        label="Every message of this campaign",
        icon=":material/mail:",
        query_params={"campaign": str(campaign_id)},
    )


@live(run_every=10.0)
def tests_tab(campaign_id: int) -> None:
    """Each A/B test's variants side by side, refreshed while results come in."""
    abtest.tests_tab(actor, campaign_id, can_run)


show_flash()
if campaign is None or campaign.status == S.DRAFT:
    st.title(md(campaign.name) if campaign else "New campaign")
    if campaign is not None and campaign.status_note:
        st.warning(campaign.status_note)
    if not can_run:
        st.info("A draft: only people who run campaigns can edit it.")
        st.stop()
    Builder(actor, campaign, zone).show()
    if campaign is not None:
        st.divider()
        left, right = st.columns(2)
        if left.button("Delete this draft", icon=":material/delete:"):
            ask_before(f"delete_campaign_{campaign.id}")
        if confirmed(
            f"delete_campaign_{campaign.id}", f"Delete the draft “{campaign.name}” for good?"
        ):
            change(
                lambda s: campaigns.delete_campaign(
                    session=s, actor=actor, campaign_id=campaign.id
                ),
                f"Deleted “{campaign.name}”.",
                page="pages/campaigns.py",
            )
        if right.button("Duplicate", icon=":material/content_copy:", key="duplicate_draft"):
            duplicate(campaign)
    st.stop()

header(campaign)
if campaign.status == S.SCHEDULED:
    st.caption("It starts by itself at its start time, and prepares its actions then.")
if can_run:
    controls(campaign)
overview_tab, plan_view, actions_view, performance, tests_view = st.tabs(
    ["Overview", "Plan", "Actions", "Performance", "A/B tests"]
)
with overview_tab:
    overview(campaign)
with plan_view:
    plan_tab(campaign)
with actions_view:
    actions_tab(campaign)
with performance:
    performance_tab(campaign.id)
with tests_view:
    tests_tab(campaign.id)
