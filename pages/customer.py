"""One customer: who they are, what they bought, what we sent them, and what they agreed to."""

from collections import Counter
from datetime import date

import pandas as pd
import streamlit as st

from core import compliance, customers, scoring, segments
from core.compliance import consent
from core.compliance.age import is_adult
from core.compliance.consent import Channel
from core.customers import privacy
from core.db import session_scope, utc_now
from core.errors import NotFound
from core.infra.money import format_cents
from core.models import Customer
from core.permissions import Permission
from ui import context
from ui.calls import ask_before, change, confirmed, query_id
from ui.flash import show_flash
from ui.formatting import age_badge, md, phone, risk_badge, when
from ui.guard import require

actor = require(Permission.VIEW)
can_edit = actor.can(Permission.EDIT_DATA)

customer_id = query_id()
if customer_id is None:
    st.title("Customer")
    st.info("Pick a customer from the list to see their profile.")
    st.page_link("pages/customers.py", label="Go to Customers", icon=":material/group:")
    st.stop()

store = context.store()
PURCHASES_SHOWN = 200


def personal_data_file(customer_id: int, *, as_zip: bool) -> bytes:
    """Made when the button is clicked (and audited then), not on every run of the page."""
    with session_scope() as session:
        data = privacy.personal_data(
            session=session, actor=actor, customer_id=customer_id, now=utc_now()
        )
    return privacy.as_csv_zip(data) if as_zip else privacy.as_json(data)


def privacy_request(customer: Customer) -> None:
    """A person's request to see, or to erase, what the store holds about them."""
    if not (actor.can(Permission.EXPORT_DATA) or actor.can(Permission.ERASE_DATA)):
        return
    with st.expander("Privacy request", icon=":material/shield_person:"):
        if actor.can(Permission.EXPORT_DATA):
            st.caption(
                "Everything held about this person: profile, consents, orders, messages, "
                "events, segments. Each download is recorded in the audit log."
            )
            for column, (label, kind, mime) in zip(
                st.columns(2),
                (
                    ("Download as JSON", "json", "application/json"),
                    ("Download as CSV files (zip)", "zip", "application/zip"),
                ),
                strict=True,
            ):
                column.download_button(
                    label,
                    data=lambda as_zip=kind == "zip": personal_data_file(
                        customer.id, as_zip=as_zip
                    ),
                    file_name=f"customer-{customer.id}.{kind}",
                    mime=mime,
                    icon=":material/download:",
                    width="stretch",
                )
        if not actor.can(Permission.ERASE_DATA):
            return
        st.divider()
        st.caption(
            "Erasing removes their name, contact details, birth date and address for good. "
            "Their orders stay in the store's figures, anonymous, and their email and phone stay "
            "on the suppression list as a hash only, so they never get marketing again."
        )
        asked_on = st.date_input(
            "Request received on", context.store_today(), max_value=context.store_today()
        )
        if st.button("Erase this customer", icon=":material/person_remove:"):
            ask_before(f"erase_customer_{customer.id}", asked_on)
        if (
            requested_on := confirmed(
                f"erase_customer_{customer.id}",
                "Erase this customer at their request? This cannot be undone.",
                yes="Yes, erase",
            )
        ) is not None:
            change(
                lambda s: privacy.erase_customer(
                    session=s,
                    actor=actor,
                    customer_id=customer.id,
                    now=utc_now(),
                    requested_on=requested_on,
                ),
                lambda erasure: (
                    f"Customer #{erasure.customer_id} erased; {erasure.orders_kept:,} orders kept, "
                    "anonymous."
                ),
                page="pages/customers.py",
            )


def outlook(customer: Customer, model: scoring.ScoringSummary | None, today: date) -> str:
    """What the scores predict, and on what grounds: the purchase model for customers who came
    back; for one purchase, only how long ago it was (the model calls everyone without a repeat
    certainly still a customer, which is no news)."""
    if not customer.order_count:
        return "No purchase yet: nothing to predict from."
    if customer.scored_at is None:
        return "Not scored yet: scores are made after every import and each night."
    said = []
    if customer.predicted_clv_cents is not None:
        value = format_cents(customer.predicted_clv_cents, whole=True)
        said.append(f"Predicted to spend {value} in the next year")
    if customer.days_between_orders is not None and customer.p_alive is not None:
        said.append(f"{customer.p_alive:.0%} likely to still be a customer")
    elif customer.last_order_at is not None:
        gone = (today - customer.last_order_at.astimezone(store.zone).date()).days
        gap = model.typical_gap_days if model else None
        said.append(
            f"one purchase so far, {gone:,} days ago"
            + (f"; repeat customers come back about every {gap:.0f} days" if gap else "")
        )
    return " · ".join(said)


def channel_badge(customer: Customer, channel: Channel, reachable: bool, today: date) -> str:
    """'Email ok' when marketing may go there (the rule campaigns use), else why not."""
    name = "Email" if channel == Channel.EMAIL else "SMS"
    consented = customer.can_email if channel == Channel.EMAIL else customer.can_text
    if reachable:
        return f":green-badge[{name} ok]"
    if not consented:
        return f":gray-badge[No {'email' if channel == Channel.EMAIL else 'SMS'} consent]"
    if not is_adult(customer.birth_date, today):
        return f":orange-badge[{name} consent, but no proof of 21+]"
    blocked = "address suppressed" if channel == Channel.EMAIL else "not a US number, or suppressed"
    return f":orange-badge[{name} consent, but {blocked}]"


def items_in(purchase: customers.Purchase) -> str:
    """'3× beer, 1× spirits': the quantity per category, the largest first."""
    counted: Counter[str] = Counter()
    for line in purchase.lines:
        counted[line.category or line.sku] += line.quantity
    return ", ".join(f"{quantity}× {what}" for what, quantity in counted.most_common()) or "—"


with session_scope(read_only=True) as session:
    try:
        customer = customers.get_customer(
            session=session, customer_id=customer_id, include_deleted=True
        )
    except NotFound:
        customer = None
    if customer is not None:
        purchases = customers.purchase_history(
            session=session, customer_id=customer_id, limit=PURCHASES_SHOWN
        )
        events = customers.timeline(session=session, customer_id=customer_id)
        consents = consent.history(session=session, customer_id=customer_id)
        memberships = [
            (s.id, s.name) for s in segments.segments_of(session=session, customer_id=customer_id)
        ]
        model = scoring.last_model(session=session)
        duplicates = customers.possible_duplicates(session=session, customer_id=customer_id)
        reach = compliance.reachable_channels(
            session=session, customer_ids=[customer_id], today=context.store_today()
        ).get(customer_id, [])

if customer is None or customer.deleted_at is not None:
    st.title(
        "Customer not found"
        if customer is None
        else "Customer erased"
        if customer.erased_at
        else "Customer deleted"
    )
    if customer is None:
        st.warning(f"There is no customer #{customer_id}.")
    elif customer.erased_at is not None:
        st.info(
            f"Customer #{customer_id} was erased at their request on "
            f"{when(customer.erased_at, store.zone)}. Their orders stay in the store's figures, "
            "anonymous; their email and phone stay suppressed."
        )
    else:
        st.warning(
            f"Customer #{customer_id} was deleted on {when(customer.deleted_at, store.zone)}. "
            "Deleted customers are hidden from lists and never messaged."
        )
        if can_edit and st.button("Restore this customer", type="primary"):
            change(
                lambda s: customers.restore(session=s, actor=actor, customer_id=customer_id),
                "Customer restored.",
            )
        privacy_request(customer)
    st.page_link("pages/customers.py", label="Back to Customers", icon=":material/group:")
    st.stop()

today = context.store_today()
st.page_link("pages/customers.py", label="All customers", icon=":material/arrow_back:")
st.title(md(customer.full_name or customer.email or customer.phone or f"Customer #{customer.id}"))
show_flash()
badges = [
    age_badge(customer.birth_date, customer.age_verified, today),
    risk_badge(customer.churn_risk),
    f":blue-badge[{customer.rfm_segment}]" if customer.rfm_segment else "",
    *(channel_badge(customer, channel, channel in reach, today) for channel in Channel),
]
st.markdown(" ".join(b for b in badges if b))

columns = st.columns(4)
columns[0].metric("Orders", f"{customer.order_count:,}")
columns[1].metric("Spent", format_cents(customer.total_spent_cents, whole=True))
columns[2].metric(
    "Average order",
    format_cents(customer.total_spent_cents // customer.order_count)
    if customer.order_count
    else "—",
    help=None if customer.order_count else "No orders yet: there is no average to show.",
)
columns[3].metric("Last order", when(customer.last_order_at, store.zone))
st.caption(outlook(customer, model, today))

details, bought, history, agreed, groups = st.tabs(
    ["Details", "Purchases", "Timeline", "Consent", "Segments"]
)

with details:
    if can_edit:
        # The version this form was filled from: a save from it after somebody else's (or an
        # import's) change is refused by core instead of quietly undoing that change.
        version_key = f"customer_{customer.id}_version"
        opened_version = st.session_state.setdefault(version_key, customer.version)
        with st.form("edit_customer"):
            left, right = st.columns(2)
            values = {
                "first_name": left.text_input("First name", customer.first_name),
                "last_name": right.text_input("Last name", customer.last_name),
                "email": left.text_input("Email", customer.email or ""),
                "phone": right.text_input("Phone", phone(customer.phone)),
                "birth_date": left.date_input(
                    "Date of birth", customer.birth_date, min_value=pd.Timestamp("1900-01-01")
                ),
                "age_verified": right.checkbox("ID checked", customer.age_verified),
                "address": left.text_input("Street address", customer.address),
                "city": right.text_input("City", customer.city),
                "state": left.text_input("State", customer.state, max_chars=2),
                "zip": right.text_input("ZIP code", customer.zip),
                "external_id": left.text_input("Customer ID (POS)", customer.external_id or ""),
            }
            save = st.form_submit_button("Save changes", type="primary")
        if save:
            st.session_state.pop(version_key)  # saved or refused, the next run starts afresh
            change(
                lambda s: customers.update_customer(
                    session=s,
                    actor=actor,
                    customer_id=customer.id,
                    now=utc_now(),
                    expected_version=opened_version,
                    **values,
                ),
                "Saved.",
            )
    else:
        st.dataframe(
            pd.DataFrame(
                {
                    "Field": ["Email", "Phone", "Date of birth", "Address", "Time zone"],
                    "Value": [
                        customer.email or "—",
                        phone(customer.phone) or "—",
                        str(customer.birth_date or "—"),
                        ", ".join(
                            p
                            for p in (customer.address, customer.city, customer.state, customer.zip)
                            if p
                        )
                        or "—",
                        customer.timezone or "—",
                    ],
                }
            ),
            hide_index=True,
        )
    st.caption(
        f"Customer #{customer.id} · time zone {customer.timezone or 'unknown'} · "
        f"since {when(customer.created_at, store.zone)} · source {customer.source}"
    )
    if duplicates:
        st.warning("Possible duplicates with the same email or phone:")
        for other in duplicates:
            st.page_link(
                "pages/customer.py",
                label=f"#{other.id} {other.full_name} {other.email or ''} {other.phone or ''}",
                query_params={"id": str(other.id)},
            )
    if can_edit:
        if st.button("Delete customer", icon=":material/delete:"):
            ask_before(f"delete_customer_{customer.id}")
        if confirmed(
            f"delete_customer_{customer.id}",
            "Delete this customer? Their orders stay, and you can restore them later.",
        ):
            change(
                lambda s: customers.soft_delete(
                    session=s, actor=actor, customer_ids=[customer.id], now=utc_now()
                ),
                "Customer deleted.",
                page="pages/customers.py",
            )
    privacy_request(customer)

with bought:
    if not purchases:
        st.info("No purchases yet.")
    else:
        orders_table = pd.DataFrame(
            [
                {
                    "When": when(p.ordered_at, store.zone, with_time=True),
                    "Items": items_in(p),
                    "Total": format_cents(p.total_cents),
                    "Discount": format_cents(p.discount_cents) if p.discount_cents else "",
                    "Channel": p.channel.replace("_", " "),
                }
                for p in purchases
            ]
        )
        picked = st.dataframe(
            orders_table,
            hide_index=True,
            width="stretch",
            on_select="rerun",
            selection_mode="single-row",
            key="purchase_table",
            column_config={"Items": st.column_config.TextColumn(width="large")},
        )
        shown = purchases[picked.selection.rows[0]] if picked.selection.rows else None
        more = customer.order_count > len(purchases)
        st.caption(
            f"{customer.order_count:,} orders, newest first"
            + (f" (the latest {len(purchases):,} shown)" if more else "")
            + ". Tick an order to see what was in it."
        )
        if shown is not None and shown.lines:
            st.markdown(f"**Order of {when(shown.ordered_at, store.zone, with_time=True)}**")
            st.dataframe(
                pd.DataFrame(
                    [
                        {
                            "SKU": line.sku,
                            "Category": line.category,
                            "Qty": line.quantity,
                            "Price": format_cents(line.unit_price_cents),
                            "Total": format_cents(line.line_total_cents),
                        }
                        for line in shown.lines
                    ]
                ),
                hide_index=True,
            )

with history:
    if not events:
        st.info("Nothing has happened yet.")
    else:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "When": when(e.at, store.zone, with_time=True),
                        "What": e.kind,
                        "Summary": e.title,
                        "Details": e.detail,
                    }
                    for e in events
                ]
            ),
            hide_index=True,
            width="stretch",
        )

with agreed:
    for channel, label in ((Channel.EMAIL, "Email"), (Channel.SMS, "SMS")):
        granted = customer.email_opt_in if channel == Channel.EMAIL else customer.sms_opt_in
        since = customer.email_opt_in_at if channel == Channel.EMAIL else customer.sms_opt_in_at
        left, right = st.columns([3, 1])
        left.markdown(
            f"**{label}:** {'subscribed' if granted else 'not subscribed'}"
            + (f" since {when(since, store.zone)}" if granted and since else "")
        )
        if can_edit:
            action = "Record opt-out" if granted else "Record opt-in"
            if right.button(action, key=f"consent_{channel}"):
                change(
                    lambda s, channel=channel, granted=granted: customers.change_consent(
                        session=s,
                        actor=actor,
                        customer_id=customer.id,
                        channel=channel,
                        granted=not granted,
                        now=utc_now(),
                    ),
                    f"{label} consent recorded.",
                )
    if consents:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "When": when(c.recorded_at, store.zone, with_time=True),
                        "Channel": c.channel.upper(),
                        "Decision": "opt-in" if c.granted else "opt-out",
                        "Address": c.address or "",
                        "Source": c.source,
                    }
                    for c in consents
                ]
            ),
            hide_index=True,
            width="stretch",
        )
    else:
        st.caption("No consent decisions recorded.")

with groups:
    for segment_id, name in memberships:
        st.page_link(
            "pages/segment.py",
            label=name,
            icon=":material/filter_alt:",
            query_params={"id": str(segment_id)},
        )
    if not memberships:
        st.info("Not in any segment.")
