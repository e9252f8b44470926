"""One customer: who they are, what they bought, what we sent them, and what they agreed to."""

import pandas as pd
import streamlit as st

from core import customers, segments
from core.compliance import consent
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


with session_scope(read_only=True) as session:
    try:
        customer = customers.get_customer(
            session=session, customer_id=customer_id, include_deleted=True
        )
    except NotFound:
        customer = None
    if customer is not None:
        purchases = customers.purchase_history(session=session, customer_id=customer_id)
        events = customers.timeline(session=session, customer_id=customer_id)
        consents = consent.history(session=session, customer_id=customer_id)
        memberships = [
            s.name for s in segments.segments_of(session=session, customer_id=customer_id)
        ]
        duplicates = customers.possible_duplicates(session=session, customer_id=customer_id)

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
st.title(md(customer.full_name or customer.email or customer.phone or f"Customer #{customer.id}"))
show_flash()
badges = [
    age_badge(customer.birth_date, customer.age_verified, today),
    risk_badge(customer.churn_risk),
    f":blue-badge[{customer.rfm_segment}]" if customer.rfm_segment else "",
    ":green-badge[Email ok]" if customer.can_email else ":gray-badge[No email consent]",
    ":green-badge[SMS ok]" if customer.can_text else ":gray-badge[No SMS consent]",
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
if customer.predicted_clv_cents is not None:
    # The model calls everyone with a single purchase day certainly still a customer: true to
    # its assumptions, but not news a marketer can use, so it is not shown as a figure.
    repeat_buyer = customer.days_between_orders is not None
    alive = (
        f"{customer.p_alive:.0%} likely to still be a customer"
        if repeat_buyer and customer.p_alive is not None
        else "one visit so far: too early to say whether they will be back"
    )
    st.caption(
        f"Predicted to spend {format_cents(customer.predicted_clv_cents, whole=True)} in the next "
        f"year · {alive}"
    )

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
                "phone": right.text_input("Phone", customer.phone or ""),
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
    for purchase in purchases[:50]:
        title = (
            f"{when(purchase.ordered_at, store.zone, with_time=True)} · "
            f"{format_cents(purchase.total_cents)} · {purchase.channel.replace('_', ' ')}"
        )
        with st.expander(title):
            if purchase.lines:
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
                            for line in purchase.lines
                        ]
                    ),
                    hide_index=True,
                )
            if purchase.discount_cents:
                st.caption(f"Discount {format_cents(purchase.discount_cents)}")
    if len(purchases) > 50:
        st.caption(f"Showing the latest 50 of {len(purchases)} orders loaded.")

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
                        "": e.title,
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
    if memberships:
        st.markdown("\n".join(f"- {md(name)}" for name in memberships))
    else:
        st.info("Not in any segment.")
