"""The variables a template is rendered with, for a real send, a test send or a preview.

Whatever is unknown (no customer for a test to yourself, no campaign step in a preview) comes
from `templates.SAMPLE_CONTEXT`, so a template renders the same way everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from jinja2 import TemplateError
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.campaigns.plans import describe_offer
from core.compliance.decision import reachable
from core.config import Settings
from core.errors import NotFound, ValidationError
from core.infra import keys
from core.messaging import offer_codes
from core.messaging.links import link_key, unsubscribe_url
from core.messaging.templates import SAMPLE_CONTEXT, Draft, Rendered, default_template, render
from core.models import Campaign, CampaignStep, Customer, SegmentMember, Template
from core.store_profile import StoreProfile, get_store_profile


def offer_key() -> bytes:
    """The key offer codes are made with."""
    return keys.key_for("offer-codes")


class Offered(Protocol):
    """A plan step's offer, or an action's offer fitted to one customer."""

    offer_kind: str
    offer_value: float
    offer_category: str | None
    offer_description: str


def offer_text(offered: Offered) -> str:
    return offered.offer_description or describe_offer(
        offered.offer_kind, offered.offer_value, offered.offer_category
    )


def message_variables(
    *,
    store: StoreProfile,
    code: str,
    unsubscribe_url: str,
    customer: Customer | None = None,
    step: CampaignStep | None = None,
    offer: Offered | None = None,
    campaign: Campaign | None = None,
) -> dict[str, Any]:
    """What a template may use. The offer is `offer` (an approved action's personal offer) or
    else the step's; `code` is the message's offer code (a sample one in previews)."""
    variables: dict[str, Any] = {
        **SAMPLE_CONTEXT,
        "store": {
            "name": store.name,
            "address": store.postal_address,
            "phone": store.phone,
            "email": store.email,
        },
        "unsubscribe_url": unsubscribe_url,
    }
    if customer is not None:
        variables["first_name"] = customer.first_name or "there"
        variables["customer"] = {
            "first_name": customer.first_name,
            "last_name": customer.last_name,
            "city": customer.city,
            "preferred_category": customer.preferred_category or "",
        }
    offer = offer or step
    if step is not None and offer is not None:
        variables["offer"] = {
            "description": offer_text(offer),
            "code": code,
            "category": offer.offer_category or "",
        }
        variables["campaign"] = {"name": campaign.name if campaign else "", "angle": step.angle}
    else:
        variables["offer"] = {**SAMPLE_CONTEXT["offer"], "code": code}
    return variables


def preview(
    *, session: Session, settings: Settings, draft: Draft, customer_id: int | None = None
) -> Rendered:
    """`draft` as `customer_id` (or the sample customer) would get it, with a sample offer.

    Raises:
        NotFound: no such customer.
        ValidationError: the draft cannot be rendered for this customer, and why.
    """
    customer = None
    if customer_id is not None:
        customer = session.get(Customer, customer_id)
        if customer is None or customer.deleted_at is not None:
            raise NotFound(f"Customer {customer_id} not found.")
    base_url = settings.public_base_url or "http://localhost:8501"
    variables = message_variables(
        store=get_store_profile(session=session),
        code=offer_codes.SAMPLE,
        unsubscribe_url=unsubscribe_url(base_url, link_key(), 0),
        customer=customer,
    )
    try:
        return render(draft, variables)
    except (TemplateError, RecursionError) as exc:
        raise ValidationError(
            f"This template cannot be rendered for this customer: {exc}."
        ) from exc


@dataclass(frozen=True)
class StepPreview:
    """A planned send's message as one of its recipients would get it."""

    rendered: Rendered | None
    """None when the store has no template for the send yet, or it cannot render (`problem`)."""
    template_name: str
    recipient: str
    """Who it was rendered for ("a sample customer" when the segment has no one reachable)."""
    problem: str = ""


def preview_step(*, session: Session, settings: Settings, step_id: int, today: date) -> StepPreview:
    """The message a step sends, with its template (chosen, or the default of the campaign's
    type) and its offer, for the first reachable member of its segment."""
    step = session.get(CampaignStep, step_id)
    if step is None:
        raise NotFound(f"There is no planned send {step_id}.")
    campaign = step.campaign
    template = (
        session.get(Template, step.template_id)
        if step.template_id
        else default_template(session=session, campaign_type=campaign.type, channel=step.channel)
    )
    if template is None:
        return StepPreview(None, "", "", "The store has no template for this send yet.")
    customer = session.scalar(
        select(Customer)
        .join(SegmentMember, SegmentMember.customer_id == Customer.id)
        .where(SegmentMember.segment_id == step.segment_id, reachable(step.channel, today))
        .order_by(Customer.id)
        .limit(1)
    )
    base_url = settings.public_base_url or "http://localhost:8501"
    variables = message_variables(
        store=get_store_profile(session=session),
        code=offer_codes.SAMPLE,
        unsubscribe_url=unsubscribe_url(base_url, link_key(), 0),
        customer=customer,
        step=step,
        campaign=campaign,
    )
    recipient = customer.full_name if customer is not None else "a sample customer"
    try:
        return StepPreview(render(template, variables), template.name, recipient)
    except (TemplateError, RecursionError) as exc:
        return StepPreview(None, template.name, recipient, f"It cannot be rendered: {exc}.")
