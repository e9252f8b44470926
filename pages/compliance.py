"""Compliance: the rules every message is held to, who they keep out of a campaign, the consent
log behind them, and the addresses that must never get marketing."""

import io
from datetime import time

import pandas as pd
import streamlit as st
from pydantic import ValidationError as PydanticValidationError

from core import campaigns, compliance
from core.campaigns.preflight import preflight
from core.compliance import consent
from core.db import session_scope, utc_now
from core.messaging import suppressions
from core.models import CampaignStatus, Channel
from core.permissions import Permission
from ui import context
from ui.calls import attempt, change
from ui.flash import flash, show_flash
from ui.formatting import when
from ui.guard import require
from ui.preflight import show_preflight

actor = require(Permission.VIEW)
can_edit = actor.can(Permission.MANAGE_SETTINGS)
can_run = actor.can(Permission.RUN_CAMPAIGNS)
can_export = actor.can(Permission.EXPORT_DATA)
zone = context.store_zone()

st.title("Compliance")
st.caption(
    "Alcohol marketing law, enforced: 21+ only, consent on record, texts only in the "
    "recipient's legal hours, opt-outs honored at once, state promotion limits, no ad copy "
    "aimed at minors or urging excess. Every message is checked again right before it goes."
)
show_flash()

check, policy_tab, log_tab, suppressed_tab = st.tabs(
    ["Pre-flight", "Policy", "Consent log", "Suppressions"]
)

# --- a campaign's pre-flight ------------------------------------------------------------------

with check:
    with session_scope(read_only=True) as session:
        upcoming = (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED, CampaignStatus.RUNNING)
        listed = sorted(
            campaigns.list_campaigns(session=session),
            key=lambda c: c.status not in upcoming,  # the ones still to send first
        )
    if not listed:
        st.info("No campaign yet: build one on the Campaigns page, then check it here.")
    else:
        chosen = st.selectbox(
            "Campaign",
            [c.id for c in listed],
            index=None,
            placeholder="Pick a campaign to check",
            format_func=lambda i: next(f"{c.name} ({c.status})" for c in listed if c.id == i),
        )
        if chosen is not None:
            with session_scope(read_only=True) as session:
                campaign = campaigns.get_campaign(session=session, campaign_id=chosen)
                if campaign.status not in upcoming:
                    st.caption(
                        f"This campaign is {campaign.status}: the report says whom it would "
                        "reach if it went out today."
                    )
                if campaign.segment_ids and campaign.channels:
                    show_preflight(
                        preflight(session=session, campaign=campaign, today=context.store_today())
                    )
                else:
                    st.info("Pick its segments and channels in the builder first.")

# --- the policy ---------------------------------------------------------------------------------

with session_scope(read_only=True) as session:
    policy = compliance.get_policy(session=session)


def hours(window: compliance.Window) -> str:
    return f"{window.start:%H:%M}–{window.end:%H:%M}"


STATE_COLUMNS = [
    "State",
    "Texts from",
    "Texts until",
    "No texts on Sunday",
    "Deepest discount %",
    "Offers not allowed",
]


def state_rules(policy: compliance.Policy) -> pd.DataFrame:
    """One row per state with a rule of its own (hours, Sundays, a discount cap)."""
    states = sorted(
        {
            *policy.state_sms_windows,
            *policy.no_sunday_sms_states,
            *policy.state_discount_caps,
            *policy.state_offer_bans,
        }
    )
    windows = policy.state_sms_windows
    return pd.DataFrame(
        [
            [
                state,
                f"{windows[state].start:%H:%M}" if state in windows else "",
                f"{windows[state].end:%H:%M}" if state in windows else "",
                state in policy.no_sunday_sms_states,
                policy.state_discount_caps.get(state),
                ", ".join(policy.state_offer_bans.get(state, ())),
            ]
            for state in states
        ],
        columns=STATE_COLUMNS,
    ).astype({"Deepest discount %": "Int64"})


def with_state_rules(policy: dict, rows: pd.DataFrame) -> dict:
    """`policy` (dumped) with the states' rules as edited in the table."""
    windows, no_sunday, caps, bans = {}, [], {}, {}
    for row in rows.dropna(subset=["State"]).to_dict("records"):
        state = str(row["State"]).strip().upper()
        if row["Texts from"] or row["Texts until"]:
            windows[state] = {
                "start": time.fromisoformat(str(row["Texts from"]).strip()),
                "end": time.fromisoformat(str(row["Texts until"]).strip()),
            }
        if row["No texts on Sunday"]:
            no_sunday.append(state)
        if pd.notna(row["Deepest discount %"]):
            caps[state] = int(row["Deepest discount %"])
        if kinds := [k.strip() for k in str(row["Offers not allowed"] or "").split(",")]:
            bans[state] = tuple(k for k in kinds if k)
    return policy | {
        "state_sms_windows": windows,
        "no_sunday_sms_states": tuple(no_sunday),
        "state_discount_caps": caps,
        "state_offer_bans": {state: kinds for state, kinds in bans.items() if kinds},
    }


with policy_tab:
    left, right = st.columns(2)
    left.markdown(
        f"**Texts arrive** {hours(policy.federal_sms_window)} in the recipient's time zone "
        "(federal), narrower where a state says so; deferred to the next allowed minute, never "
        f"dropped. Texting {' or '.join(policy.sms_join_keywords)} signs a number up: date of "
        "birth (21+), then the disclosure, then Y."
    )
    right.markdown(
        f"**At most** {policy.frequency_cap_per_week} marketing messages a week per customer "
        f"({policy.email_cap_per_week} emails, {policy.sms_cap_per_week} texts), across "
        f"every campaign, and {policy.same_subject_sms_cap} texts a day on one campaign in "
        f"{', '.join(policy.same_subject_sms_states)}; discounts at most "
        f"{policy.max_discount_percent} % off."
    )
    st.caption(
        "States with rules of their own; a state's rules apply when the customer's address or "
        "their phone's area code is in it. Elsewhere the federal hours and store limits hold."
    )
    if not can_edit:
        st.dataframe(state_rules(policy), hide_index=True, width="stretch")
    else:
        with st.form("policy"):
            rows = st.data_editor(
                state_rules(policy),
                num_rows="dynamic",
                hide_index=True,
                width="stretch",
                key="state_rules",
                column_config={
                    "Texts from": st.column_config.TextColumn(help="HH:MM, the state's own start"),
                    "Texts until": st.column_config.TextColumn(help="HH:MM, the state's own end"),
                    "Deepest discount %": st.column_config.NumberColumn(min_value=0, max_value=100),
                    "Offers not allowed": st.column_config.TextColumn(
                        help="Offer kinds, comma-separated: percent_off, amount_off, bundle, "
                        "gift, early_access"
                    ),
                },
            )
            st.markdown("**The store's own limits** (a store may tighten the law, never loosen it)")
            federal = st.columns(2)
            starts = federal[0].time_input("Texts from", policy.federal_sms_window.start)
            ends = federal[1].time_input("Texts until", policy.federal_sms_window.end)
            caps = st.columns(4)
            overall = caps[0].number_input("Messages a week", 1, 21, policy.frequency_cap_per_week)
            emails = caps[1].number_input("Emails a week", 1, 21, policy.email_cap_per_week)
            texts = caps[2].number_input("Texts a week", 1, 21, policy.sms_cap_per_week)
            discount = caps[3].number_input(
                "Deepest discount %", 0, 100, policy.max_discount_percent
            )
            if st.form_submit_button("Save policy"):
                try:
                    edited = compliance.Policy.model_validate(
                        with_state_rules(policy.model_dump(), rows)
                        | {
                            "federal_sms_window": {"start": starts, "end": ends},
                            "frequency_cap_per_week": overall,
                            "email_cap_per_week": emails,
                            "sms_cap_per_week": texts,
                            "max_discount_percent": discount,
                        }
                    )
                except (PydanticValidationError, ValueError, TypeError) as exc:
                    st.error(f"Not saved: {exc}")
                else:
                    if attempt(
                        lambda s: compliance.save_policy(session=s, actor=actor, policy=edited)
                    ):
                        flash("Policy saved.")
                        st.rerun()

# --- the consent log -----------------------------------------------------------------------------

with log_tab:
    st.caption(
        "Every opt-in and opt-out, append-only: the address, when, where it came from, and the "
        "proof kept (disclosure text and version, IP, keyword). Search an address or #customer."
    )
    search = st.text_input("Find in the log", key="consent_search")
    with session_scope(read_only=True) as session:
        records, total = consent.search_log(session=session, search=search)
    st.caption(
        f"{total:,} decisions"
        + (f" (the newest {len(records):,} shown)" if total > len(records) else "")
    )
    if records:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "When": when(r.recorded_at, zone, with_time=True),
                        "Customer": f"#{r.customer_id}" if r.customer_id else "",
                        "Channel": r.channel.upper(),
                        "Decision": "opt-in" if r.granted else "opt-out",
                        "Address": r.address or "",
                        "Source": r.source,
                    }
                    for r in records
                ]
            ),
            hide_index=True,
            width="stretch",
        )
    if can_export and total:

        def consent_report() -> str:
            out = io.StringIO()
            consent.export_log(unit_of_work=session_scope, actor=actor, out=out, search=search)
            return out.getvalue()

        st.download_button(
            "Download the consent report (CSV)",
            data=consent_report,
            file_name="consent-report.csv",
            mime="text/csv",
            icon=":material/download:",
        )

# --- suppressions ----------------------------------------------------------------------------

with suppressed_tab:
    st.caption(
        "Unsubscribes, STOP replies, bounces, complaints and erased customers: these addresses "
        "and numbers get no marketing, whoever they belong to."
    )
    search = st.text_input("Find an address", key="suppression_search")
    with session_scope(read_only=True) as session:
        listed_rows, count = suppressions.list_suppressions(session=session, search=search)
        shown = [
            {
                "Id": s.id,
                "Channel": s.channel,
                "Address": suppressions.shown_address(s.address),
                "Reason": s.reason,
                "Since": when(s.created_at, zone, with_time=True),
            }
            for s in listed_rows
        ]
    st.caption(f"{count:,} suppressed")
    if shown:
        st.dataframe(pd.DataFrame(shown), hide_index=True, width="stretch")
    if can_export and count:

        def suppression_list() -> str:
            out = io.StringIO()
            with session_scope() as session:
                suppressions.export_list(session=session, actor=actor, out=out)
            return out.getvalue()

        st.download_button(
            "Download the list (CSV)",
            data=suppression_list,
            file_name="suppressions.csv",
            mime="text/csv",
            icon=":material/download:",
        )
    if can_run:
        with st.form("suppress", clear_on_submit=True):
            kind, address = st.columns([1, 3])
            chosen_channel = kind.selectbox("Channel", list(Channel), format_func=str)
            typed = address.text_input("Email address or phone number")
            if st.form_submit_button("Suppress"):
                change(
                    lambda s: suppressions.add_by_hand(
                        session=s,
                        actor=actor,
                        channel=chosen_channel,
                        address=typed,
                        now=utc_now(),
                    ),
                    "Suppressed: nothing more will be sent there.",
                )
        uploaded = st.file_uploader(
            "Import a list (CSV or text: an email address or phone number per line)",
            type=["csv", "txt"],
        )
        if uploaded is not None and st.button("Suppress everyone in the file"):
            text = uploaded.getvalue().decode("utf-8-sig", errors="replace")
            change(
                lambda s: suppressions.import_list(
                    session=s, actor=actor, text=text, now=utc_now()
                ),
                lambda done: (
                    f"{done.added:,} suppressed, {done.already:,} already were"
                    + (
                        f"; {len(done.problems):,} lines skipped: " + "; ".join(done.problems[:5])
                        if done.problems
                        else ""
                    )
                    + "."
                ),
            )
    if can_edit and shown:
        lift_id = st.selectbox(
            "Lift a suppression (the person must consent again before anything is sent)",
            [None, *(row["Id"] for row in shown)],
            format_func=lambda i: (
                "—"
                if i is None
                else next(f"{r['Address']} ({r['Reason']})" for r in shown if r["Id"] == i)
            ),
        )
        if lift_id is not None and st.button("Lift it"):
            change(
                lambda s: suppressions.remove(session=s, actor=actor, suppression_id=lift_id),
                "Suppression lifted.",
            )
