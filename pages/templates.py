"""Templates: write an email or text once, preview it as a real customer would get it, test it."""

import streamlit as st

from core.campaigns import TYPE_LABELS
from core.config import get_settings
from core.db import session_scope
from core.messaging import templates
from core.messaging.template_defaults import install_default_templates
from core.messaging.templates import VARIABLES, Draft
from core.messaging.variables import preview
from core.models import CampaignType, Channel
from core.permissions import Permission
from jobs import flows
from ui.calls import attempt, attempt_flow
from ui.email_preview import show_email
from ui.flash import flash, show_flash
from ui.formatting import provider_name
from ui.guard import require

actor = require(Permission.VIEW)
can_edit = actor.can(Permission.RUN_CAMPAIGNS)
st.title("Templates")
show_flash()

with session_scope(read_only=True) as session:
    saved = {t.id: t for t in templates.list_templates(session=session)}
if not saved and can_edit:
    st.info(
        "No templates yet. Start from the defaults: one email and one text per playbook, "
        "each with the footer the law asks for."
    )
    if st.button("Add the default templates", type="primary"):
        with session_scope() as session:
            added = install_default_templates(session=session, actor=actor)
        flash(f"{added} templates added.")
        st.rerun()

NEW = 0
left, right = st.columns([3, 1])
template_id = left.selectbox(
    "Template",
    [*saved, NEW] if can_edit else list(saved),
    format_func=lambda i: (
        "New template…"
        if i == NEW
        else f"{saved[i].name} ({'email' if saved[i].channel == 'email' else 'text'})"
    ),
)
if template_id is None:
    st.stop()
current = saved.get(template_id)
channel = (
    Channel(current.channel)
    if current
    else right.radio(
        "Channel",
        list(Channel),
        format_func=lambda c: "Email" if c == Channel.EMAIL else "Text",
        horizontal=True,
    )
)

with st.popover("Insert a variable", icon=":material/data_object:"):
    st.caption("Copy a variable into the message; it is filled in for each customer.")
    for name, meaning in VARIABLES.items():
        st.markdown(f"`{{{{ {name} }}}}` — {meaning}")

edit, show = st.columns([3, 2], gap="large")
with edit:
    key = f"template_{template_id}"
    name = st.text_input(
        "Name", current.name if current else "", key=f"{key}_name", disabled=not can_edit
    )
    kinds = [None, *CampaignType]
    campaign_type = st.selectbox(
        "For campaigns of type",
        kinds,
        kinds.index(CampaignType(current.campaign_type))
        if current and current.campaign_type
        else 0,
        format_func=lambda k: "Any (picked by hand)" if k is None else TYPE_LABELS[k],
        key=f"{key}_type",
        disabled=not can_edit,
        help="Plans of this type pick it for their sends on this channel; any template can be "
        "picked by hand in a plan.",
    )
    subject = preheader = body_html = ""
    if channel == Channel.EMAIL:
        subject = st.text_input(
            "Subject",
            current.subject if current else "",
            key=f"{key}_subject",
            disabled=not can_edit,
        )
        preheader = st.text_input(
            "Preheader (the line inboxes show after the subject)",
            current.preheader if current else "",
            key=f"{key}_preheader",
            disabled=not can_edit,
        )
        body_html = st.text_area(
            "HTML",
            current.body_html if current else "",
            height=260,
            key=f"{key}_html",
            disabled=not can_edit,
            help="Must show {{ store.address }} and {{ unsubscribe_url }} (CAN-SPAM).",
        )
    body_text = st.text_area(
        "Plain text (made from the HTML when empty)" if channel == Channel.EMAIL else "Message",
        current.body_text if current else "",
        height=120 if channel == Channel.EMAIL else 100,
        key=f"{key}_text",
        disabled=not can_edit,
    )
    draft = Draft(
        name=name,
        channel=channel,
        subject=subject,
        preheader=preheader,
        body_html=body_html,
        body_text=body_text,
        campaign_type=campaign_type.value if campaign_type else None,
    )

    problems = templates.check(draft)
    for problem in problems:
        st.warning(problem)
    for caution in templates.warnings(draft):
        st.info(caution, icon=":material/visibility:")

with show:
    st.subheader("Preview")
    customer_id = st.number_input(
        "As customer number (empty: a sample customer)", min_value=1, value=None, step=1
    )
    sample = int(customer_id) if customer_id else None
    previewed = None
    if not problems:
        previewed = attempt(
            lambda s: preview(session=s, settings=get_settings(), draft=draft, customer_id=sample),
            read_only=True,
        )
    if previewed and channel == Channel.EMAIL:
        show_email(
            subject=previewed.value.subject,
            preheader=previewed.value.preheader,
            body_html=previewed.value.html,
        )
        with st.expander("Plain-text part"):
            st.text(previewed.value.text)
    elif previewed:
        st.text(previewed.value.text)
        length = templates.sms_length(previewed.value.text)
        price = length.segments * get_settings().sms_cost_cents / 100
        st.caption(
            f"{length.characters} characters · {length.encoding} · {length.segments} "
            f"segment{'s' if length.segments != 1 else ''} of {length.per_segment} · "
            f"about ${price:.3f} a text"
        )

if can_edit:
    save, test = st.columns(2)
    if save.button("Save template", type="primary", disabled=bool(problems)) and attempt(
        lambda s: templates.save_template(
            session=s, actor=actor, draft=draft, template_id=current and current.id
        )
    ):
        flash("Template saved.")
        st.session_state.pop(f"template_{NEW}_name", None)
        st.rerun()
    if current is not None:
        with test.popover("Send a test to yourself", icon=":material/send:"):
            to = st.text_input(
                "Your email" if channel == Channel.EMAIL else "Your mobile number",
                actor.email if channel == Channel.EMAIL else "",
            )
            if st.button("Send the test") and (
                sent := attempt_flow(
                    lambda: flows.send_test(actor=actor, template_id=current.id, to=to)
                )
            ):
                st.success(f"Test queued through {provider_name(sent.value)}. See it under Sends.")
