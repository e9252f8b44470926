"""Campaigns: every campaign as a card — status, dates, audience, results — and a way in."""

import streamlit as st

from core import attribution, campaigns
from core.campaigns import TYPE_LABELS
from core.db import session_scope, utc_now
from core.infra.money import format_cents
from core.models import CampaignStatus, CampaignType
from core.permissions import Permission
from ui.context import store_zone
from ui.figures import campaign_figures, results_line
from ui.flash import show_flash
from ui.formatting import md, status_badge, when
from ui.guard import require

actor = require(Permission.VIEW)
st.title("Campaigns")
show_flash()

if actor.can(Permission.RUN_CAMPAIGNS):
    st.page_link(
        "pages/campaign.py",
        label="Create campaign",
        icon=":material/add_circle:",
        query_params={"new": "1"},
    )

zone = store_zone()
with session_scope(read_only=True) as session:
    counts = campaigns.summary_counts(session=session)
    choices = ["all", *(s.value for s in CampaignStatus if counts.get(s.value))]
    shown = st.segmented_control(
        "Show",
        choices,
        default="all",
        format_func=lambda s: "All" if s == "all" else f"{s.title()} ({counts[s]})",
        label_visibility="collapsed",
    )
    status = None if shown in (None, "all") else CampaignStatus(shown)
    listed = campaigns.list_campaigns(session=session, status=status)
    results_of = attribution.stored_results(
        session=session, campaign_ids=[c.id for c in listed], now=utc_now()
    )
    cards = [
        {
            "id": c.id,
            "name": c.name,
            "status": c.status,
            "type": TYPE_LABELS[CampaignType(c.type)],
            "dates": f"{when(c.starts_at, zone)} – {when(c.ends_at, zone)}",
            "sends": len(c.steps),
            "reach": sum(step.expected_reach for step in c.steps),
            "cost": sum(step.expected_cost_cents for step in c.steps),
            "plan": c.plan_source or "no plan yet",
            "note": c.status_note,
            "results": results_of[c.id],
        }
        for c in listed
    ]

if not cards:
    st.info(
        "No campaigns yet. Create one: pick segments, let the planner suggest a week of sends, "
        "review and schedule."
        if status is None
        else f"No {status.value} campaigns."
    )

for card in cards:
    with st.container(border=True):
        top, action = st.columns([5, 1], vertical_alignment="center")
        badge = status_badge(card["status"])
        top.markdown(f"**{md(card['name'])}** {badge}  \n{card['type']} · {card['dates']}")
        action.page_link(
            "pages/campaign.py",
            label="Open",
            icon=":material/open_in_new:",
            query_params={"id": str(card["id"])},
        )
        fared = card["results"].figures
        if fared.targeted:
            campaign_figures(fared)
            if line := results_line(card["results"]):
                st.caption(line)
        else:
            figures = st.columns(3)
            figures[0].metric("Sends planned", card["sends"])
            figures[1].metric("Messages planned", f"{card['reach']:,}")
            figures[2].metric("Send cost, planned", format_cents(card["cost"]))
        st.caption(
            f"Plan: {card['plan']}"
            + ("" if fared.targeted else " · nothing sent yet")
            + (f" · {md(card['note'])}" if card["note"] else "")
        )
