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
from pydantic import ValidationError as PydanticValidationError

from core import campaigns, segments
from core.campaigns import BUILDER_STEPS, TYPE_LABELS, Details, actions, planner
from core.campaigns.plans import OfferKind, Plan
from core.campaigns.preflight import preflight
from core.config import get_settings
from core.db import session_scope, utc_now
from core.errors import DomainError
from core.infra.money import format_cents
from core.messaging import templates, variables
from core.models import Audience, Campaign, CampaignStatus, CampaignType, Channel
from core.permissions import Actor, Permission
from jobs import flows
from ui import abtest
from ui.calls import attempt, attempt_flow
from ui.charts import plan_timeline
from ui.email_preview import show_email
from ui.flash import flash
from ui.formatting import md
from ui.jobs import follow_job
from ui.preflight import show_preflight

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

DEFAULT_TEMPLATE = "Default for the campaign type"
ANY_CATEGORY = "any"
CATEGORY_CHOICES = [ANY_CATEGORY, "wine", "beer", "spirits", "mixers", "accessories"]
AUDIENCE_LABELS = {
    Audience.SEGMENTS: "Everyone reachable in the segments (less customers you skip)",
    Audience.APPROVED: "Approved actions only",
}
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

    def today(self) -> date:
        """The store's date now: the first day a campaign can start, the day ages count by."""
        return utc_now().astimezone(self.zone).date()

    # --- navigation ---------------------------------------------------------------------

    def show(self) -> None:
        """The step shown is the step control's value, and nothing else: a save that moves on
        asks for the next step (`go_to`), which the control takes before it is drawn."""
        reached = self.campaign.builder_step if self.campaign else 1
        labels = [f"{n}. {name}" for n, name in enumerate(BUILDER_STEPS, start=1)]
        asked = st.session_state.pop(f"{self.key}_go_to", None)
        if asked is not None:
            st.session_state[self.key] = labels[asked - 1]
        elif st.session_state.get(self.key) not in labels:
            st.session_state[self.key] = labels[min(reached, 4) - 1]
        picked = st.segmented_control("Step", labels, key=self.key, label_visibility="collapsed")
        current = labels.index(picked) + 1 if picked else min(reached, 4)
        if current > reached:
            st.caption(f"Finish step {reached} first.")
            current = reached
        st.progress(current / 4)
        [self.details, self.audience, self.strategy, self.review][current - 1]()

    def go_to(self, step: int, campaign_id: int) -> None:
        st.session_state[f"builder_step_{campaign_id}_go_to"] = step
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
        tomorrow = self.today() + timedelta(days=1)
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
            supplier = st.text_input(
                "Paid for by a supplier (co-op)",
                current.supplier,
                placeholder="The brand or distributor paying for it, if one is",
                help="A supplier paying for a retailer's advertising falls under the tied-house "
                "rules: an admin signs such a campaign off before it is scheduled.",
            )
            audiences = list(Audience)
            audience = st.radio(
                "Who gets messages",
                audiences,
                audiences.index(current.audience),
                format_func=AUDIENCE_LABELS.get,
                help="With approved actions only, nobody is messaged until you approve them on "
                "the Actions page; each gets their own offer.",
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
                    "audience": audience,
                    "supplier": supplier,
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
        holdout = st.slider(
            "Keep back as a control group (%)",
            0,
            campaigns.MAX_HOLDOUT_PERCENT,
            current.holdout_percent,
            help="Chosen at random and never messaged by this campaign: what they buy in the "
            "same days, against what the messaged buy, is what the campaign added. A campaign "
            "that messages approved actions only keeps nobody back.",
        )
        if chosen and channels:
            reach = live_reach(
                get_settings().database_url,
                tuple(chosen),
                tuple(excluded),
                channels,
                self.today(),  # 21 or not by the store's day
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
                    "holdout_percent": holdout,
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
        follow_job(
            self.plan_job,
            done_message=lambda result: (
                f"{result.get('note', 'Planned.')} {result.get('sends', 0)} sends."
            ),
            cancel_as=self.actor,
        )
        planning = bool(st.session_state.get(self.plan_job))
        left, right = st.columns(2)
        if not planning and left.button(
            "Ask the AI planner" if ai else "Plan it for me",
            type="primary",
            icon=":material/auto_awesome:",
            help=None if ai else "No AI key is configured: the built-in planner plans.",
        ):
            self.plan(use_ai=True)
        if not planning and ai and right.button("Use the built-in planner", icon=":material/rule:"):
            self.plan(use_ai=False)
        if not campaign.steps:
            st.info("No plan yet.")
            return
        self.show_plan(campaign)
        self.edit_plan(campaign)
        st.divider()
        abtest.test_editor(self.actor, campaign)
        st.divider()
        if st.button("Continue to review", type="primary") and self.save(self.details_now(), 3):
            self.go_to(4, campaign.id)

    def plan(self, *, use_ai: bool) -> None:
        """Plan in a job: the page stays usable while a slow model thinks, and it can be
        cancelled."""
        campaign = self.campaign
        assert campaign is not None
        started = attempt_flow(
            lambda: flows.plan_campaign(actor=self.actor, campaign_id=campaign.id, use_ai=use_ai)
        )
        if started is not None:
            st.session_state[self.plan_job] = started.value
            st.rerun()

    @property
    def plan_job(self) -> str:
        assert self.campaign is not None
        return f"plan_job_{self.campaign.id}"

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
            usable = templates.list_templates(session=session)
        by_name = {name: i for i, name in names.items() if i in campaign.segment_ids}
        template_ids = {
            f"{t.name} ({t.channel})": t.id for t in usable if t.channel in campaign.channels
        }
        template_names = {i: name for name, i in template_ids.items()}
        plan = campaigns.plan_of(campaign)
        assert plan is not None
        table = pd.DataFrame(
            [
                {
                    "Day": send.day,
                    "Time": time.fromisoformat(send.local_time),
                    "Segment": names.get(send.segment_id, "—"),
                    "Channel": send.channel.value,
                    "Offer": OFFER_LABELS[send.offer_kind],
                    "Value": send.offer_value,
                    "Category": send.offer_category or ANY_CATEGORY,
                    "Template": template_names.get(send.template_id or 0, DEFAULT_TEMPLATE),
                    "Angle": send.angle,
                }
                for send in plan.sends
            ]
        )
        st.caption(
            "Change a send, add one (the last row) or remove one; only day and segment are "
            "needed, the rest has defaults. Reach and cost are counted again when you save."
        )
        edited = st.data_editor(
            table,
            num_rows="dynamic",
            hide_index=True,
            width="stretch",
            key=f"plan_editor_{campaign.id}",
            column_config={
                "Day": st.column_config.DateColumn(required=True, format="ddd MMM D"),
                "Time": st.column_config.TimeColumn(
                    format="HH:mm", step=900, help="In each customer's own time zone"
                ),
                "Segment": st.column_config.SelectboxColumn(options=list(by_name), required=True),
                "Channel": st.column_config.SelectboxColumn(options=list(campaign.channels)),
                "Offer": st.column_config.SelectboxColumn(options=list(OFFER_LABELS.values())),
                "Value": st.column_config.NumberColumn(
                    min_value=0, help="Percent for % off; dollars for $ off and bundles"
                ),
                "Category": st.column_config.SelectboxColumn(options=CATEGORY_CHOICES),
                "Template": st.column_config.SelectboxColumn(
                    options=[DEFAULT_TEMPLATE, *template_ids], width="medium"
                ),
                "Angle": st.column_config.TextColumn(width="large"),
            },
        )
        if st.button("Save my changes to the plan", icon=":material/save:"):
            try:
                plan = Plan(
                    summary=plan.summary,
                    sends=[
                        _send_from_row(number, row, by_name, template_ids, campaign.channels)
                        for number, row in enumerate(edited.to_dict("records"), start=1)
                    ],
                )
                with session_scope() as session:
                    _, repairs = campaigns.save_manual_plan(
                        session=session,
                        actor=self.actor,
                        campaign_id=campaign.id,
                        plan=plan,
                        now=utc_now(),
                    )
            except PydanticValidationError as exc:
                st.error("The plan was not saved. " + _in_words(exc))
                return
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
            cautions = [
                str(finding)
                for finding in campaigns.content_findings(session=session, campaign=campaign)
                if finding.severity == "warn"
            ]
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
            + (
                f" · {campaign.control_percent} % kept back as a control group (the messages "
                "below are the most that go out)"
                if campaign.control_percent
                else " · no control group: what the campaign adds will not be measured"
            )
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
        for problem in problems:
            st.warning(problem)
        for caution in cautions:
            st.info(caution, icon=":material/visibility:")
        now = utc_now()
        past = campaign.starts_at is not None and campaign.starts_at <= now
        if past:
            st.warning(
                f"The start ({start:%a %b %d, %H:%M}) has passed: start it now, or go back to "
                "Details for a later start."
            )
        today = now.astimezone(self.zone).date()
        with session_scope(read_only=True) as session:
            reach = campaigns.audience_reach(
                session=session,
                segment_ids=campaign.segment_ids,
                excluded_segment_ids=campaign.excluded_segment_ids,
                channels=campaign.channels,
                today=today,
            )
            report = preflight(session=session, campaign=campaign, today=today)
        show_preflight(report)
        prepared = min(reach.reachable, actions.DEFAULT_LIMIT)
        who = (
            "only the customers you approve among them are messaged"
            if campaign.audience == Audience.APPROVED
            else "everyone reachable is messaged, less those you skip"
        )
        st.caption(
            "Sends go out at each step's time in every customer's own time zone, texts only "
            f"inside the legal hours of their state. When it starts, {prepared:,} prioritized "
            f"actions are prepared (the top of {reach.reachable:,} reachable customers); {who}."
        )
        abtest.tests_in_review(campaign)
        self.supplier_sign_off(campaign)
        self.previews(campaign)
        left, right = st.columns(2)
        scheduled = left.button(
            f"Schedule for {start:%a %b %d, %H:%M}" if start and not past else "Schedule",
            type="primary",
            disabled=bool(problems) or past,
        )
        started = right.button("Start now", disabled=bool(problems))
        if scheduled:
            self.launch(campaign, CampaignStatus.SCHEDULED)
        if started:
            self.launch(campaign, CampaignStatus.RUNNING)

    def supplier_sign_off(self, campaign: Campaign) -> None:
        """A supplier-funded campaign waits for an admin's sign-off (tied-house rules)."""
        if not campaign.supplier:
            return
        if campaign.signed_off_at is not None:
            st.success(
                f"Paid for by {md(campaign.supplier)}: signed off on "
                f"{campaign.signed_off_at.astimezone(self.zone):%b %d, %H:%M}.",
                icon=":material/verified:",
            )
            return
        st.info(
            f"Paid for by {md(campaign.supplier)}. Before it is scheduled, an admin checks the "
            "arrangement against the tied-house rules (27 CFR 6.51: a supplier may not pay a "
            "retailer's advertising in exchange for favouring its products) and signs it off.",
            icon=":material/gavel:",
        )
        if self.actor.can(Permission.MANAGE_SETTINGS) and st.button(
            "Sign off: the arrangement is compliant", icon=":material/verified:"
        ):
            done = attempt(
                lambda s: campaigns.sign_off(
                    session=s, actor=self.actor, campaign_id=campaign.id, now=utc_now()
                )
            )
            if done:
                flash("Signed off.")
                st.rerun()

    def previews(self, campaign: Campaign) -> None:
        """Each send's message as its first reachable recipient would get it."""
        with session_scope(read_only=True) as session:
            names = segments.names(session=session)
            today = self.today()
            shown = [
                (
                    step,
                    variables.preview_step(
                        session=session, settings=get_settings(), step_id=step.id, today=today
                    ),
                )
                for step in campaign.steps
            ]
        st.markdown("**The messages**")
        for step, preview in shown:
            title = (
                f"{step.day:%a %b %d} {step.local_time} · {step.channel} · "
                f"{names.get(step.segment_id or 0, '?')}"
            )
            with st.expander(title):
                if preview.rendered is None:
                    st.warning(preview.problem)
                    continue
                st.caption(f"Template “{preview.template_name}”, as {preview.recipient} gets it")
                if step.channel == Channel.EMAIL:
                    show_email(
                        subject=preview.rendered.subject,
                        preheader=preview.rendered.preheader,
                        body_html=preview.rendered.html,
                        height=360,
                    )
                else:
                    st.text(preview.rendered.text)

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


def _send_from_row(
    number: int,
    row: dict[str, Any],
    by_name: dict[str, int],
    template_ids: dict[str, int],
    channels: list[str],
) -> dict[str, Any]:
    """One edited table row as a send, with defaults for what was left empty; raises
    ValueError naming the send and what is missing."""
    if row.get("Segment") not in by_name:
        raise ValueError(f"send {number} needs a segment")
    day = row.get("Day")
    if day is None or pd.isna(day):
        raise ValueError(f"send {number} needs a day")
    moment = row.get("Time")
    offers = {label: kind for kind, label in OFFER_LABELS.items()}
    value = row.get("Value")
    category = row.get("Category")
    return {
        "day": day if isinstance(day, date) else pd.Timestamp(day).date(),
        "local_time": moment.strftime("%H:%M") if isinstance(moment, time) else "10:00",
        "segment_id": by_name[row["Segment"]],
        "channel": row.get("Channel") or channels[0],
        "offer_kind": offers.get(row.get("Offer") or "", OfferKind.NONE),
        "offer_value": 0.0 if value is None or pd.isna(value) else float(value),
        "offer_category": None if category in (None, ANY_CATEGORY) else category,
        "angle": row.get("Angle") or "",
        "template_id": template_ids.get(row.get("Template") or ""),
    }


FIELD_WORDS = {
    "day": "the day",
    "local_time": "the time",
    "segment_id": "the segment",
    "channel": "the channel",
    "offer_kind": "the offer",
    "offer_value": "the value",
    "offer_category": "the category",
    "angle": "the angle",
}


def _in_words(exc: PydanticValidationError) -> str:
    """Validation failures as sentences: "Send 2: the value must be 0 or more." """
    said = []
    for error in exc.errors():
        place = error["loc"]
        if len(place) >= 3 and place[0] == "sends" and isinstance(place[1], int):
            what = FIELD_WORDS.get(str(place[2]), str(place[2]))
            said.append(f"Send {place[1] + 1}: {what} — {error['msg'].lower()}.")
        elif place and place[0] == "sends":
            said.append(
                "A plan needs at least one send."
                if error["type"] == "too_short"
                else f"The plan has too many sends: {error['msg'].lower()}."
            )
        else:
            said.append(f"{error['msg']}.")
    return " ".join(said)
