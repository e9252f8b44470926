"""Sends: every message with its status, live while a campaign sends; retries; suppressions."""

from datetime import datetime, time, timedelta

import pandas as pd
import streamlit as st

from core import campaigns
from core.config import get_settings
from core.db import session_scope, utc_now
from core.infra.money import format_cents
from core.messaging import monitor, routing
from core.messaging.monitor import MessageFilter
from core.messaging.sender import render_again
from core.models import Channel, MessageStatus
from core.permissions import Permission
from jobs import flows
from ui.calls import attempt_flow, query_id
from ui.context import store_zone
from ui.email_preview import show_email
from ui.flash import flash, show_flash
from ui.formatting import md, provider_name, when
from ui.guard import live, require

actor = require(Permission.VIEW)
can_run = actor.can(Permission.RUN_CAMPAIGNS)
st.title("Sends")
show_flash()
for channel_held in Channel:
    if reason := routing.why_held(channel_held, get_settings()):
        st.warning(reason, icon=":material/pause_circle:")

zone = store_zone()
with session_scope(read_only=True) as session:
    campaign_names = {c.id: c.name for c in campaigns.list_campaigns(session=session)}

STATUS_LABELS = {
    s.value: "Held out (control group)" if s == MessageStatus.HELD_OUT else s.value.title()
    for s in MessageStatus
}


@live(run_every=5.0)
def live_figures(campaign_id: int | None) -> None:
    """Counts, progress and rate, refreshed every few seconds while the page is open."""
    with session_scope(read_only=True) as session:
        counts = monitor.status_counts(session=session, campaign_id=campaign_id)
        rate = monitor.sends_per_minute(session=session, now=utc_now())
        cost = monitor.total_cost_cents(session=session, campaign_id=campaign_id)
    total = sum(n for status, n in counts.items() if status != MessageStatus.HELD_OUT)
    waiting = counts.get("queued", 0) + counts.get("sending", 0)
    figures = st.columns(6)
    for column, (label, statuses) in zip(
        figures,
        [
            ("Waiting", ("queued", "sending")),
            ("Sent", ("sent",)),
            ("Delivered", ("delivered",)),
            ("Failed", ("failed", "bounced")),
            ("Stopped by the rules", ("suppressed",)),
        ],
        strict=False,
    ):
        column.metric(label, f"{sum(counts.get(s, 0) for s in statuses):,}")
    figures[5].metric("Cost", format_cents(round(cost)))
    if total:
        done = total - waiting
        st.progress(done / total, text=f"{done:,} of {total:,} settled · {rate:,.0f} sent a minute")
    else:
        st.info(
            "Nothing has been sent yet. A running campaign's messages appear here the day "
            "before each planned send."
        )


left, middle, right, far = st.columns([3, 2, 2, 2])
wanted = query_id("campaign")
campaign_choices = [None, *campaign_names]
campaign_id = left.selectbox(
    "Campaign",
    campaign_choices,
    campaign_choices.index(wanted) if wanted in campaign_names else 0,
    format_func=lambda i: "All" if i is None else campaign_names[i],
)
statuses = middle.multiselect("Status", list(STATUS_LABELS), format_func=STATUS_LABELS.get)
channel = right.selectbox(
    "Channel", [None, *Channel], format_func=lambda c: "Any" if c is None else c.value
)
days = far.date_input("Created", value=(), help="A day or a range; empty for any time")
since = until = None
if days:
    first, last = (days[0], days[-1]) if isinstance(days, tuple) else (days, days)
    since = datetime.combine(first, time(0), zone)
    until = datetime.combine(last + timedelta(days=1), time(0), zone)

live_figures(campaign_id)

where = MessageFilter(
    statuses=tuple(statuses),
    channel=channel.value if channel else None,
    campaign_id=campaign_id,
    since=since,
    until=until,
)


@live(run_every=5.0)
def live_table(where: MessageFilter) -> None:
    """The messages, their status kept in step with the figures above while the page is open."""
    page = st.session_state.get("sends_page", 1)
    with session_scope(read_only=True) as session:
        rows, total = monitor.list_messages(session=session, where=where, page=page)
        retryable = monitor.count_retryable(session=session, campaign_id=where.campaign_id)
    if not total:
        st.caption("No messages match.")
        return
    table = pd.DataFrame(
        [
            {
                "Id": r.id,
                "Status": STATUS_LABELS.get(r.status, r.status)
                + (" (test mode)" if r.provider == "sandbox" else ""),
                "Channel": r.channel,
                "Campaign": r.campaign,
                "Customer": r.customer,
                "To": r.to_address,
                "Due": when(r.send_after, zone, with_time=True),
                "Sent": when(r.sent_at, zone, with_time=True) if r.sent_at else "",
                "Provider": provider_name(r.provider) if r.provider else "",
                "Tries": r.attempts,
                "Cost": r.cost_cents / 100,
                "Problem": r.error,
            }
            for r in rows
        ]
    )
    picked = st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        on_select="rerun",
        selection_mode="multi-row",
        column_config={"Cost": st.column_config.NumberColumn(format="$%.4f")},
        key="sends_table",
    )
    pages = max(1, -(-total // monitor.PAGE_SIZE))
    back, label, forward = st.columns([1, 3, 1])
    if back.button("Previous", disabled=page <= 1):
        st.session_state["sends_page"] = page - 1
        st.rerun()
    label.caption(f"Page {page} of {pages} · {total:,} messages")
    if forward.button("Next", disabled=page >= pages):
        st.session_state["sends_page"] = page + 1
        st.rerun()

    by_id = {r.id: r for r in rows}
    chosen = [int(table.iloc[i]["Id"]) for i in picked.selection.rows if i < len(table)]
    failed = [i for i in chosen if by_id[i].status in ("failed", "bounced")]
    if can_run and (retryable or failed):
        one, every = st.columns(2)
        retry = None
        if failed and one.button(
            f"Retry the {len(failed)} failed selected", icon=":material/replay:"
        ):
            retry = attempt_flow(lambda: flows.retry_messages(actor=actor, message_ids=failed))
        if retryable and every.button(f"Retry all {retryable:,} failed", icon=":material/replay:"):
            retry = attempt_flow(lambda: flows.retry_messages(actor=actor))
        if retry is not None:
            if retry.value:
                flash(f"{retry.value:,} failed messages queued again.")
            else:
                flash(
                    "None of those can be retried: only failed sends that may succeed now.",
                    "warning",
                )
            st.rerun()
    if chosen:
        message_detail(by_id[chosen[0]])


def message_detail(row: monitor.Row) -> None:
    """One message: what it says, who sent it, what happened to it and why."""
    with session_scope(read_only=True) as session:
        events = monitor.timeline(session=session, message_id=row.id)
        rendered = render_again(session=session, settings=get_settings(), message_id=row.id)
    st.subheader(f"Message {row.id} · {STATUS_LABELS.get(row.status, row.status)}")
    st.caption(
        f"To {row.to_address or '—'} · "
        + (f"through {provider_name(row.provider)}" if row.provider else "not sent yet")
        + (f" · {row.error}" if row.error else "")
    )
    if rendered is not None and rendered.html:
        show_email(subject=rendered.subject, preheader="", body_html=rendered.html, height=320)
    elif rendered is not None:
        st.text(rendered.text)
    else:
        st.caption("Its template is gone, so its text cannot be shown.")
    if events:
        for event in events:
            st.markdown(
                f"- **{event.type}** · {when(event.occurred_at, zone, with_time=True)}"
                + (f" · {md(str(event.data.get('reason')))}" if event.data.get("reason") else "")
            )
    else:
        st.caption("Nothing has happened to it yet.")


live_table(where)

st.page_link(
    "pages/compliance.py",
    label="Suppressed addresses, the consent log and the rules: Compliance",
    icon=":material/gavel:",
)
