"""The campaign builder: details, audience, strategy, review & schedule — one step at a time.

Each step's form saves the draft (a new campaign is created by the first), checks that step, and
moves on only when the step is complete; the steps already passed stay one click away.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pandas as pd
import streamlit as st

from core import campaigns, segments
from core.campaigns import BUILDER_STEPS, TYPE_LABELS, Details, planner
from core.campaigns.plans import OfferKind, Plan
from core.config import get_settings
from core.db import session_scope, utc_now
from core.errors import DomainError
from core.infra.money import format_cents
from core.models import Campaign, CampaignStatus, CampaignType, Channel
from core.permissions import Actor
from jobs import flows
from ui.calls import attempt, attempt_flow
from ui.charts import plan_timeline
from ui.flash import flash
from ui.formatting import md

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

OFFER_LABELS = {
    OfferKind.PERCENT_OFF: "% off",
    OfferKind.AMOUNT_OFF: "$ off",
    OfferKind.BUNDLE: "bundle $ off",
    OfferKind.EARLY_ACCESS: "early access",
    OfferKind.GIFT: "gift",
    OfferKind.NONE: "no offer",
}


class Builder:
    def __init__(self, actor: Actor, campaign: Campaign | None, zone: ZoneInfo) -> None:
        self.actor = actor
        self.campaign = campaign
        self.zone = zone
        self.key = f"builder_step_{campaign.id if campaign else 'new'}"

    # --- navigation ---------------------------------------------------------------------

    def show(self) -> None:
        reached = self.campaign.builder_step if self.campaign else 1
        current = st.session_state.get(self.key, min(reached, 4))
        labels = [f"{n}. {name}" for n, name in enumerate(BUILDER_STEPS, start=1)]
        picked = st.segmented_control(
            "Step",
            labels,
            default=labels[current - 1],
            # Keyed by the step shown: when a save moves the step on, a fresh control shows it
            # (the browser would otherwise keep the old choice and send it back on next click).
            key=f"{self.key}_nav_{current}",
            label_visibility="collapsed",
        )
        wanted = labels.index(picked) + 1 if picked else current
        if wanted <= reached:
            current = wanted
        st.session_state[self.key] = current
        st.progress(current / 4)
        [self.details, self.audience, self.strategy, self.review][current - 1]()

    def go_to(self, step: int, campaign_id: int) -> None:
        st.session_state[f"builder_step_{campaign_id}"] = step
        st.switch_page("pages/campaign.py", query_params={"id": str(campaign_id)})

    def save(self, details: Details, step: int) -> int | None:
        """Save the draft with `details`; the campaign id, or None after showing the error."""

        def save_draft(session: Session) -> tuple[int, list[str]]:
            if self.campaign is None:
                saved = campaigns.create_campaign(
                    session=session, actor=self.actor, details=details
                )
            else:
                saved = campaigns.update_campaign(
                    session=session,
                    actor=self.actor,
                    campaign_id=self.campaign.id,
                    details=details,
                )
            problems = campaigns.problems(session=session, campaign=saved, step=step, now=utc_now())
            if not problems:
                saved.builder_step = max(saved.builder_step, step + 1)
            return saved.id, problems

        outcome = attempt(save_draft)
        if outcome is None:
            return None
        saved_id, problems = outcome.value
        if problems:
            flash("Draft saved. Before going on: " + " ".join(problems), "warning")
            self.go_to(step, saved_id)
        return saved_id

    def details_now(self) -> Details:
        return campaigns.details_of(self.campaign) if self.campaign else Details(name="")

    # --- step 1 -------------------------------------------------------------------------

    def details(self) -> None:
        current = self.details_now()
        tomorrow = utc_now().astimezone(self.zone).date() + timedelta(days=1)
        start = current.starts_at.astimezone(self.zone) if current.starts_at else None
        end = current.ends_at.astimezone(self.zone) if current.ends_at else None
        types = list(CampaignType)
        with st.form("details"):
            name = st.text_input("Name", current.name, placeholder="e.g. Thanksgiving wine week")
            kind = st.selectbox(
                "Type", types, types.index(current.type), format_func=TYPE_LABELS.get
            )
            goal = st.text_area(
                "Goal",
                current.goal,
                placeholder="What should this campaign achieve? The planner reads this.",
                height=80,
            )
            left, middle, right = st.columns(3)
            start_day = left.date_input("Starts", start.date() if start else tomorrow)
            start_time = middle.time_input("At (store time)", start.time() if start else time(9))
            end_day = right.date_input(
                "Ends (end of day)", end.date() if end else tomorrow + timedelta(days=6)
            )
            left, right = st.columns(2)
            budget = left.number_input(
                "Sending budget ($, 0 = none)",
                0.0,
                100_000.0,
                (current.budget_cents or 0) / 100,
                step=10.0,
            )
            discount = right.slider(
                "Deepest discount allowed (%)", 0, 50, current.max_discount_percent
            )
            saved = st.form_submit_button("Save and continue", type="primary")
        if saved:
            details = Details(
                **{
                    **current.__dict__,
                    "name": name,
                    "type": kind,
                    "goal": goal,
                    "starts_at": datetime.combine(start_day, start_time, self.zone),
                    "ends_at": datetime.combine(end_day, time(23, 59), self.zone),
                    "budget_cents": round(budget * 100) or None,
                    "max_discount_percent": discount,
                }
            )
            campaign_id = self.save(details, 1)
            if campaign_id is not None:
                self.go_to(2, campaign_id)

    # --- step 2 -------------------------------------------------------------------------

    def audience(self) -> None:
        current = self.details_now()
        with session_scope(read_only=True) as session:
            options = {s.id: s for s in planner.segment_choices(session=session)}
        if not options:
            st.info("No segment has members yet: create one on the Segments page first.")
            st.page_link("pages/segments.py", label="Segments", icon=":material/filter_alt:")
            return
        chosen = st.multiselect(
            "Send to the members of",
            list(options),
            [i for i in current.segment_ids if i in options],
            format_func=lambda i: f"{options[i].name} ({options[i].member_count:,})",
        )
        excluded = st.multiselect(
            "But not to the members of",
            [i for i in options if i not in chosen],
            [i for i in current.excluded_segment_ids if i in options and i not in chosen],
            format_func=lambda i: options[i].name,
        )
        left, right = st.columns(2)
        email = left.checkbox("Email", Channel.EMAIL.value in current.channels)
        sms = right.checkbox("Text messages (SMS)", Channel.SMS.value in current.channels)
        channels = tuple(c.value for c, on in ((Channel.EMAIL, email), (Channel.SMS, sms)) if on)
        if chosen and channels:
            reach = live_reach(
                get_settings().database_url,
                tuple(chosen),
                tuple(excluded),
                channels,
                utc_now().date(),
            )
            figures = st.columns(4)
            figures[0].metric("In these segments", f"{reach.members:,}")
            figures[1].metric("Excluded", f"{reach.excluded:,}")
            figures[2].metric("Can be reached", f"{reach.reachable:,}")
            figures[3].metric("Cannot be reached", f"{reach.not_reachable:,}")
            st.caption(
                " · ".join(f"{channel}: {n:,}" for channel, n in reach.by_channel.items())
                + " — only adults 21+ by date of birth, opted in, with a working address or US "
                "mobile number are counted."
            )
        if st.button("Save and continue", type="primary"):
            details = Details(
                **{
                    **current.__dict__,
                    "segment_ids": tuple(chosen),
                    "excluded_segment_ids": tuple(excluded),
                    "channels": channels,
                }
            )
            campaign_id = self.save(details, 2)
            if campaign_id is not None:
                self.go_to(3, campaign_id)

    # --- step 3 -------------------------------------------------------------------------

    def strategy(self) -> None:
        campaign = self.campaign
        assert campaign is not None
        ai = get_settings().openai_api_key is not None
        st.markdown(
            "The planner reads your segments (who they are, how many can be reached), the liquor "
            "calendar, your budget and limits, and suggests a week of sends."
        )
        left, right = st.columns(2)
        if left.button(
            "Ask the AI planner" if ai else "Plan it for me",
            type="primary",
            icon=":material/auto_awesome:",
            help=None if ai else "No AI key is configured: the built-in planner plans.",
        ):
            self.plan(use_ai=True)
        if ai and right.button("Use the built-in planner", icon=":material/rule:"):
            self.plan(use_ai=False)
        if not campaign.steps:
            st.info("No plan yet.")
            return
        self.show_plan(campaign)
        self.edit_plan(campaign)
        if st.button("Continue to review", type="primary"):
            self.go_to(4, campaign.id)

    def plan(self, *, use_ai: bool) -> None:
        campaign = self.campaign
        assert campaign is not None
        with st.spinner("Planning…"):
            planned = attempt(
                lambda s: campaigns.plan_campaign(
                    session=s,
                    actor=self.actor,
                    campaign_id=campaign.id,
                    use_ai=use_ai,
                    now=utc_now(),
                )
            )
        if planned is None:
            return
        flash(f"{planned.value.note} {len(planned.value.plan.sends)} sends.", "success")
        self.go_to(3, campaign.id)

    def show_plan(self, campaign: Campaign) -> None:
        with session_scope(read_only=True) as session:
            names = segments.names(session=session)
        source = {"ai": "AI", "heuristic": "built-in planner", "manual": "edited by hand"}
        st.markdown(f"**Plan** · {source.get(campaign.plan_source or '', '—')}")
        note, *repairs = campaign.plan_note.splitlines() or [""]
        st.caption(note)
        if repairs:
            with st.expander(f"{len(repairs)} changes made to keep the plan within the rules"):
                st.markdown("\n".join(f"- {md(r)}" for r in repairs))
        if summary := campaign.plan_meta.get("summary"):
            st.markdown(f"> {md(summary)}")
        meta = campaign.plan_meta
        if meta.get("cost_usd") is not None:
            st.caption(
                f"{meta.get('model')}: {meta.get('prompt_tokens', 0):,} + "
                f"{meta.get('completion_tokens', 0):,} tokens, ${meta['cost_usd']:.4f}"
                + (" (cached, no charge now)" if meta.get("cached") else "")
            )
        with session_scope(read_only=True) as session:
            days = campaigns.campaign_days(session=session, campaign=campaign, now=utc_now())
        st.plotly_chart(plan_timeline(campaign.steps, names, days), width="stretch")

    def edit_plan(self, campaign: Campaign) -> None:
        with session_scope(read_only=True) as session:
            names = segments.names(session=session)
        by_name = {name: i for i, name in names.items() if i in campaign.segment_ids}
        plan = campaigns.plan_of(campaign)
        assert plan is not None
        table = pd.DataFrame(
            [
                {
                    "Day": send.day,
                    "Time": send.local_time,
                    "Segment": names.get(send.segment_id, "—"),
                    "Channel": send.channel.value,
                    "Offer": send.offer_kind.value,
                    "Value": send.offer_value,
                    "Category": send.offer_category or "",
                    "Offer text": send.offer_description,
                    "Angle": send.angle,
                    "Reach": send.expected_reach,
                    "Cost": send.expected_cost_cents / 100,
                }
                for send in plan.sends
            ]
        )
        edited = st.data_editor(
            table,
            num_rows="dynamic",
            hide_index=True,
            width="stretch",
            key=f"plan_editor_{campaign.id}",
            disabled=["Offer text", "Reach", "Cost"],
            column_config={
                "Day": st.column_config.DateColumn(required=True),
                "Time": st.column_config.TextColumn(help="HH:MM, the customer's local time"),
                "Segment": st.column_config.SelectboxColumn(options=list(by_name), required=True),
                "Channel": st.column_config.SelectboxColumn(
                    options=list(campaign.channels), required=True
                ),
                "Offer": st.column_config.SelectboxColumn(options=[k.value for k in OfferKind]),
                "Offer text": st.column_config.TextColumn(
                    help="Written from the offer, its value and category when saved"
                ),
                "Cost": st.column_config.NumberColumn(format="$%.2f"),
            },
        )
        if st.button("Save my changes to the plan", icon=":material/save:"):
            try:
                plan = Plan(
                    summary=plan.summary,
                    sends=[_send_from_row(row, by_name) for row in edited.to_dict("records")],
                )
                with session_scope() as session:
                    _, repairs = campaigns.save_manual_plan(
                        session=session,
                        actor=self.actor,
                        campaign_id=campaign.id,
                        plan=plan,
                        now=utc_now(),
                    )
            except (DomainError, ValueError) as exc:
                st.error(f"The plan was not saved: {exc}")
                return
            flash(
                "Plan saved."
                + (f" {len(repairs)} changes made to keep it within the rules." if repairs else ""),
            )
            self.go_to(3, campaign.id)

    # --- step 4 -------------------------------------------------------------------------

    def review(self) -> None:
        campaign = self.campaign
        assert campaign is not None
        with session_scope(read_only=True) as session:
            problems = campaigns.problems(session=session, campaign=campaign, step=4, now=utc_now())
            names = segments.names(session=session)
        start = campaign.starts_at.astimezone(self.zone) if campaign.starts_at else None
        st.markdown(
            f"**{campaign.name}** · {TYPE_LABELS[CampaignType(campaign.type)]}  \n"
            f"From {start:%a %b %d, %H:%M} to "
            f"{campaign.ends_at.astimezone(self.zone):%a %b %d} (store time)  \n"
            f"Segments: {', '.join(names.get(i, '?') for i in campaign.segment_ids)}"
            + (
                f" · not: {', '.join(names.get(i, '?') for i in campaign.excluded_segment_ids)}"
                if campaign.excluded_segment_ids
                else ""
            )
            + f"  \nChannels: {', '.join(campaign.channels)}"
            if start and campaign.ends_at
            else campaign.name
        )
        figures = st.columns(4)
        figures[0].metric("Sends", len(campaign.steps))
        figures[1].metric("Messages", f"{sum(s.expected_reach for s in campaign.steps):,}")
        figures[2].metric(
            "Sending cost", format_cents(sum(s.expected_cost_cents for s in campaign.steps))
        )
        figures[3].metric(
            "Budget", format_cents(campaign.budget_cents) if campaign.budget_cents else "none"
        )
        if problems:
            for problem in problems:
                st.warning(problem)
        st.caption(
            "Sends go out at each step's time in every customer's own time zone, texts only "
            "inside the legal hours of their state; 300 prioritized actions are prepared when "
            "the campaign starts."
        )
        left, right = st.columns(2)
        scheduled = left.button(
            f"Schedule for {start:%a %b %d, %H:%M}" if start else "Schedule",
            type="primary",
            disabled=bool(problems),
        )
        started = right.button("Start now", disabled=bool(problems))
        if scheduled:
            self.launch(campaign, CampaignStatus.SCHEDULED)
        if started:
            self.launch(campaign, CampaignStatus.RUNNING)

    def launch(self, campaign: Campaign, to: CampaignStatus) -> None:
        flow = flows.start_campaign if to == CampaignStatus.RUNNING else flows.schedule_campaign
        outcome = attempt_flow(lambda: flow(actor=self.actor, campaign_id=campaign.id))
        if outcome is None:
            return
        launched = outcome.value
        if launched.actions_job:
            st.session_state["actions_job"] = launched.actions_job
            flash("Started. Its actions are being prepared.")
        else:
            assert launched.starts_at is not None
            local = launched.starts_at.astimezone(self.zone)
            flash(f"Scheduled: it starts by itself on {local:%a %b %d at %H:%M}.")
        st.switch_page("pages/campaign.py", query_params={"id": str(campaign.id)})


@st.cache_data(ttl=30, show_spinner=False)
def live_reach(
    database_url: str,
    segment_ids: tuple[int, ...],
    excluded: tuple[int, ...],
    channels: tuple[str, ...],
    today: date,
) -> campaigns.Reach:
    with session_scope(read_only=True) as session:
        return campaigns.audience_reach(
            session=session,
            segment_ids=segment_ids,
            excluded_segment_ids=excluded,
            channels=channels,
            today=today,
        )


def _send_from_row(row: dict[str, Any], by_name: dict[str, int]) -> dict[str, Any]:
    """One edited table row as a send; raises ValueError naming what is wrong."""
    if row.get("Segment") not in by_name:
        raise ValueError(f"pick a segment for the send on {row.get('Day')}")
    day = row["Day"]
    return {
        "day": day if isinstance(day, date) else pd.Timestamp(day).date(),
        "local_time": str(row.get("Time") or "10:00").strip(),
        "segment_id": by_name[row["Segment"]],
        "channel": row.get("Channel") or "email",
        "offer_kind": row.get("Offer") or "none",
        "offer_value": float(row.get("Value") or 0),
        "offer_category": row.get("Category") or None,
        "offer_description": row.get("Offer text") or "",
        "angle": row.get("Angle") or "",
    }
