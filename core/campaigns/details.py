"""A campaign's details: name, type, goal, dates, segments, channels and limits; its audience
and who of it may be reached."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.compliance.decision import reachable, reachable_anyhow
from core.errors import Conflict, NotFound, ValidationError
from core.infra import audit
from core.models import (
    Audience,
    Campaign,
    CampaignStatus,
    CampaignType,
    Channel,
    Customer,
    Segment,
    SegmentMember,
)
from core.permissions import Actor, Permission, authorize

S = CampaignStatus
EDITABLE = frozenset({S.DRAFT})
MAX_DAYS = 31
DEFAULT_HOLDOUT_PERCENT = 10
MAX_HOLDOUT_PERCENT = 50
TYPE_LABELS = {
    CampaignType.PROMOTION: "Promotion",
    CampaignType.WIN_BACK: "Win-back",
    CampaignType.NEW_PRODUCT: "New product",
    CampaignType.EVENT: "Event",
    CampaignType.HOLIDAY: "Holiday",
    CampaignType.RE_ENGAGEMENT: "Re-engagement",
}


def get_campaign(*, session: Session, campaign_id: int) -> Campaign:
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(f"There is no campaign #{campaign_id}.")
    return campaign


def list_campaigns(*, session: Session, status: CampaignStatus | None = None) -> list[Campaign]:
    query = select(Campaign).order_by(Campaign.created_at.desc(), Campaign.id.desc())
    if status is not None:
        query = query.where(Campaign.status == status)
    return list(session.scalars(query))


# --- details and audience ------------------------------------------------------------------


@dataclass(frozen=True)
class Details:
    name: str
    type: CampaignType = CampaignType.PROMOTION
    goal: str = ""
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    segment_ids: tuple[int, ...] = ()
    excluded_segment_ids: tuple[int, ...] = ()
    channels: tuple[str, ...] = (Channel.EMAIL.value,)
    budget_cents: int | None = None
    max_discount_percent: int = 25
    audience: Audience = Audience.SEGMENTS
    holdout_percent: int = DEFAULT_HOLDOUT_PERCENT
    """Share of the audience kept back, never messaged, to measure what the campaign added."""
    supplier: str = ""
    """The supplier paying for it (co-op), if one does."""


def create_campaign(*, session: Session, actor: Actor, details: Details) -> Campaign:
    """A new draft. Only the name is required now; the rest is checked step by step."""
    authorize(actor, Permission.RUN_CAMPAIGNS)
    campaign = Campaign(created_by=actor.user_id, status=S.DRAFT)
    _apply(session, campaign, details)
    session.add(campaign)
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        action="campaign.create",
        entity_type="campaign",
        entity_id=campaign.id,
        changes={"name": campaign.name},
    )
    return campaign


def update_campaign(
    *, session: Session, actor: Actor, campaign_id: int, details: Details, builder_step: int = 0
) -> Campaign:
    """Save a draft's details (the builder saves at every step)."""
    authorize(actor, Permission.RUN_CAMPAIGNS)
    campaign = get_campaign(session=session, campaign_id=campaign_id)
    _require_editable(campaign)
    before = {"name": campaign.name, "segments": list(campaign.segment_ids)}
    _apply(session, campaign, details)
    campaign.builder_step = max(campaign.builder_step, builder_step)
    audit.record(
        session=session,
        actor=actor,
        action="campaign.update",
        entity_type="campaign",
        entity_id=campaign.id,
        changes={
            "before": before,
            "after": {"name": campaign.name, "segments": list(campaign.segment_ids)},
        },
    )
    return campaign


def _require_editable(campaign: Campaign) -> None:
    if campaign.status not in EDITABLE:
        hint = " Unschedule it first." if campaign.status == S.SCHEDULED else ""
        raise Conflict(f"“{campaign.name}” is {campaign.status}: only drafts can change.{hint}")


def _apply(session: Session, campaign: Campaign, details: Details) -> None:
    name = details.name.strip()
    if not name:
        raise ValidationError("A campaign needs a name.", field="name")
    if len(name) > 120:
        raise ValidationError("Keep the name under 120 characters.", field="name")
    channels = [Channel(c).value for c in dict.fromkeys(details.channels)]
    known = set(session.scalars(select(Segment.id)))
    for segment_id in (*details.segment_ids, *details.excluded_segment_ids):
        if segment_id not in known:
            raise ValidationError(f"There is no segment #{segment_id}.", field="segments")
    if set(details.segment_ids) & set(details.excluded_segment_ids):
        raise ValidationError("A segment cannot be both targeted and excluded.", field="segments")
    if details.budget_cents is not None and details.budget_cents < 0:
        raise ValidationError("The budget cannot be negative.", field="budget")
    if not 0 <= details.max_discount_percent <= 100:
        raise ValidationError("The discount limit is a percentage, 0 to 100.", field="discount")
    if len(details.supplier.strip()) > 120:
        raise ValidationError("Keep the supplier's name under 120 characters.", field="supplier")
    if not 0 <= details.holdout_percent <= MAX_HOLDOUT_PERCENT:
        raise ValidationError(
            f"The control group is 0 to {MAX_HOLDOUT_PERCENT} % of the audience.", field="holdout"
        )
    if campaign.signed_off_at is not None and details != details_of(campaign):
        campaign.void_sign_off()
    campaign.name = name
    campaign.type = CampaignType(details.type)
    campaign.goal = details.goal.strip()
    campaign.starts_at, campaign.ends_at = details.starts_at, details.ends_at
    campaign.segment_ids = list(details.segment_ids)
    campaign.excluded_segment_ids = list(details.excluded_segment_ids)
    campaign.channels = channels
    campaign.budget_cents = details.budget_cents
    campaign.max_discount_percent = details.max_discount_percent
    campaign.audience = Audience(details.audience)
    campaign.holdout_percent = details.holdout_percent
    campaign.supplier = details.supplier.strip()


def details_of(campaign: Campaign) -> Details:
    return Details(
        name=campaign.name,
        type=CampaignType(campaign.type),
        goal=campaign.goal,
        starts_at=campaign.starts_at,
        ends_at=campaign.ends_at,
        segment_ids=tuple(campaign.segment_ids),
        excluded_segment_ids=tuple(campaign.excluded_segment_ids),
        channels=tuple(campaign.channels),
        budget_cents=campaign.budget_cents,
        max_discount_percent=campaign.max_discount_percent,
        audience=Audience(campaign.audience),
        holdout_percent=campaign.holdout_percent,
        supplier=campaign.supplier,
    )


@dataclass(frozen=True)
class Reach:
    members: int
    """Customers in the chosen segments, counted once."""
    excluded: int
    """Of those, left out by the excluded segments."""
    by_channel: dict[str, int]
    """Who may be messaged on each chosen channel (consent, age 21+, working address)."""
    reachable: int
    """Who may be messaged on at least one chosen channel."""

    @property
    def not_reachable(self) -> int:
        return self.members - self.excluded - self.reachable


def audience_reach(
    *,
    session: Session,
    segment_ids: tuple[int, ...] | list[int],
    excluded_segment_ids: tuple[int, ...] | list[int] = (),
    channels: tuple[str, ...] | list[str] = (Channel.EMAIL.value,),
    today: date,
) -> Reach:
    """How many customers the chosen segments hold, and how many of them may actually be
    reached, after exclusions and the compliance rules."""
    if not segment_ids:
        return Reach(0, 0, dict.fromkeys(channels, 0), 0)
    chosen = select(SegmentMember.customer_id).where(SegmentMember.segment_id.in_(segment_ids))
    left_out = select(SegmentMember.customer_id).where(
        SegmentMember.segment_id.in_(excluded_segment_ids or [-1])
    )

    def count(*conditions: Any) -> int:
        return session.execute(
            select(func.count()).select_from(Customer).where(Customer.id.in_(chosen), *conditions)
        ).scalar_one()

    kept = Customer.id.not_in(left_out)
    by_channel = {c: count(kept, reachable(c, today)) for c in channels}
    anyhow = count(kept, reachable_anyhow(channels, today))
    return Reach(count(), count(~kept), by_channel, anyhow)


def delete_campaign(*, session: Session, actor: Actor, campaign_id: int) -> None:
    """Delete a draft; anything that has been scheduled or run is archived instead."""
    authorize(actor, Permission.RUN_CAMPAIGNS)
    campaign = get_campaign(session=session, campaign_id=campaign_id)
    if campaign.status != S.DRAFT or campaign.started_at is not None:
        raise Conflict(f"Only drafts can be deleted; archive “{campaign.name}” instead.")
    audit.record(
        session=session,
        actor=actor,
        action="campaign.delete",
        entity_type="campaign",
        entity_id=campaign.id,
        changes={"name": campaign.name},
    )
    session.delete(campaign)


def summary_counts(*, session: Session) -> dict[str, int]:
    """Campaigns per status, for the list's filter."""
    return dict(
        session.execute(select(Campaign.status, func.count()).group_by(Campaign.status)).all()
    )
