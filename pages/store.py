"""Store profile: the name, postal address and contact every message carries."""

import streamlit as st

from core import attribution
from core.analytics import weekly
from core.config import get_settings
from core.db import session_scope
from core.infra import health
from core.messaging import routing
from core.models import Channel
from core.permissions import Permission
from core.store_profile import get_store_profile, update_store_profile, us_time_zones
from jobs import flows
from ui.calls import attempt, attempt_flow
from ui.flash import flash, show_flash
from ui.formatting import md, provider_name
from ui.guard import require

actor = require(Permission.MANAGE_SETTINGS)
st.title("Store profile")
st.caption(
    "Marketing law needs your store's name and physical postal address in every email, and a "
    "contact in every text. Quiet hours and send times use the recipient's time zone; reports "
    "use the store's."
)

show_flash()

with session_scope(read_only=True) as session:
    profile = get_store_profile(session=session)

US_ZONES = us_time_zones()

with st.form("store_profile"):
    name = st.text_input("Store name", profile.name)
    address = st.text_input("Street address", profile.address)
    left, middle, right = st.columns([3, 1, 1])
    city = left.text_input("City", profile.city)
    state = middle.text_input("State", profile.state, max_chars=2, help="Two letters, e.g. IL")
    zip_code = right.text_input("ZIP", profile.zip, max_chars=10)
    left, right = st.columns(2)
    phone = left.text_input("Phone", profile.phone)
    email = right.text_input("Contact email", profile.email)
    timezone = st.selectbox(
        "Store time zone",
        US_ZONES,
        index=US_ZONES.index(profile.timezone) if profile.timezone in US_ZONES else 0,
    )
    saved = st.form_submit_button("Save", type="primary")

fields = {
    "name": name,
    "address": address,
    "city": city,
    "state": state,
    "zip": zip_code,
    "phone": phone,
    "email": email,
    "timezone": timezone,
}
if saved and attempt(lambda s: update_store_profile(session=s, actor=actor, **fields)):
    st.cache_data.clear()  # the profile (ui.context) and figures shown in its time zone
    flash("Saved.")
    st.rerun()

if not profile.is_complete:
    st.warning("Add the full postal address: emails cannot be sent without it (CAN-SPAM).")
else:
    st.caption(f"Footer address: {md(profile.name)}, {md(profile.postal_address)}")

if warnings := health.go_live_warnings():
    st.subheader("Before going live")
    st.caption(
        "Fine for trying Last Call out; set these (see the README) before customers hear from you."
    )
    for warning in warnings:
        st.warning(warning, icon=":material/key:")

st.page_link(
    "pages/compliance.py",
    label="How often customers hear from you, legal hours and discount limits: Compliance",
    icon=":material/gavel:",
)

st.subheader("Attribution")
with session_scope(read_only=True) as session:
    credit = attribution.get_attribution_settings(session=session)
with st.form("attribution"):
    st.caption(
        "An order paid with a message's offer code always counts for its campaign. Other "
        "orders count when they follow a message the customer engaged with, inside these "
        "windows; when several messages qualify, the model decides who gets the credit."
    )
    clicks, views, model = st.columns(3)
    chosen = {
        "click_window_days": clicks.number_input(
            "Days after a click", 1, 30, credit.click_window_days
        ),
        "view_window_days": views.number_input(
            "Days after an open (email) or delivery (text)", 0, 7, credit.view_window_days
        ),
        "model": model.selectbox(
            "Model",
            list(attribution.Model),
            list(attribution.Model).index(credit.model),
            format_func=attribution.MODEL_LABELS.get,
        ),
    }
    if st.form_submit_button("Save attribution") and attempt(
        lambda s: attribution.save_attribution_settings(
            session=s, actor=actor, settings=attribution.AttributionSettings.model_validate(chosen)
        )
    ):
        flash("Attribution saved: every campaign's revenue is counted this way now.")
        st.rerun()

st.subheader("Weekly report")
with session_scope(read_only=True) as session:
    weekly_to = weekly.get_weekly_settings(session=session).recipients
with st.form("weekly_report"):
    st.caption(
        "Every Monday from 8:00 (store time), last week's key figures against the week before, "
        "by email to these addresses, through the email provider below (nothing leaves in test "
        "mode). One address per line; none sends nothing."
    )
    typed = st.text_area("Send to", "\n".join(weekly_to), height=100)
    if st.form_submit_button("Save weekly report") and attempt(
        lambda s: weekly.save_weekly_settings(
            session=s,
            actor=actor,
            settings=weekly.recipients_from(typed.splitlines()),
        )
    ):
        flash("Weekly report saved.")
        st.rerun()

st.subheader("Sending")
st.caption("Who sends each channel. Keys are settings (environment, .env or secrets.toml).")
for status in routing.channel_statuses(get_settings()):
    label = "Email" if status.channel == Channel.EMAIL else "Texts"
    with st.container(border=True):
        if status.test_mode:
            st.markdown(
                f"**{label}** · :orange-badge[Test mode] through {provider_name('sandbox')}"
            )
            st.caption(f"To send for real, {status.hint}.")
        else:
            st.markdown(
                f"**{label}** · :green-badge[Live] through {provider_name(status.provider)}"
            )
        if status.problem:
            st.warning(status.problem)
        to = st.text_input(
            "Send me a test at",
            actor.email if status.channel == Channel.EMAIL else "",
            key=f"test_to_{status.channel.value}",
            placeholder="your mobile number" if status.channel == Channel.SMS else "",
        )
        if st.button("Send me a test", key=f"test_{status.channel.value}") and (
            sent := attempt_flow(
                lambda c=status.channel, to=to: flows.send_channel_test(
                    actor=actor, channel=c, to=to
                )
            )
        ):
            st.success(f"Test queued through {provider_name(sent.value)}. See it under Sends.")
