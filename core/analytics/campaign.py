"""One campaign's activity, for its Performance tab: what happened day by day, every event the
providers reported, and how each of its segments answered."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from core.analytics.periods import local_days
from core.infra.sql import hour_bucket
from core.messaging.monitor import opted_out_messages
from core.models import CampaignStep, Event, Message, MessageStatus, Order, Segment

STAGES = {
    "sent": Message.sent_at,
    "delivered": Message.delivered_at,
    "opened": Message.opened_at,
    "clicked": Message.clicked_at,
}


@dataclass(frozen=True)
class CampaignActivity:
    daily: pd.DataFrame
    """Per store day: sent, delivered, opened, clicked (each counted on the day it happened)."""
    events: pd.DataFrame
    """Per event type the providers and customers reported (email.opened, sms.opted_out…):
    count, first, last (store time)."""
    segments: pd.DataFrame
    """Per segment its steps were for: targeted, sent, clicked, unsubscribed, redeemed
    (orders paid with its messages' codes), code_revenue_cents."""


def campaign_activity(*, session: Session, campaign_id: int, zone: ZoneInfo) -> CampaignActivity:
    return CampaignActivity(
        daily=_daily(session, campaign_id, zone),
        events=_events(session, campaign_id, zone),
        segments=_segments(session, campaign_id),
    )


def _daily(session: Session, campaign_id: int, zone: ZoneInfo) -> pd.DataFrame:
    frames = []
    for stage, column in STAGES.items():
        hour = hour_bucket(column)
        rows = session.execute(
            select(hour, func.count())
            .where(Message.campaign_id == campaign_id, column.is_not(None))
            .group_by(hour)
        ).all()
        frame = pd.DataFrame(rows, columns=["hour", "count"])
        frame["day"] = local_days(frame["hour"], zone).dt.date
        frames.append(frame.groupby("day")["count"].sum().rename(stage))
    daily = pd.concat(frames, axis=1).fillna(0).astype("int64").sort_index()
    return daily.rename_axis("day").reset_index()


def _events(session: Session, campaign_id: int, zone: ZoneInfo) -> pd.DataFrame:
    rows = session.execute(
        select(Event.type, func.count(), func.min(Event.occurred_at), func.max(Event.occurred_at))
        .where(
            or_(
                Event.campaign_id == campaign_id,
                # Opt-outs are recorded against the message (and the customer), not the campaign.
                Event.message_id.in_(select(Message.id).where(Message.campaign_id == campaign_id)),
            )
        )
        .group_by(Event.type)
        .order_by(func.count().desc(), Event.type)
    ).all()
    frame = pd.DataFrame(rows, columns=["type", "count", "first", "last"])
    for column in ("first", "last"):
        frame[column] = pd.to_datetime(frame[column], utc=True).dt.tz_convert(zone)
    return frame


def _segments(session: Session, campaign_id: int) -> pd.DataFrame:
    m = Message
    redeemed = (
        select(
            Order.promo_code,
            func.count().label("orders"),
            func.sum(Order.total_cents).label("cents"),
        )
        .where(Order.promo_code.is_not(None))
        .group_by(Order.promo_code)
        .subquery()
    )
    rows = session.execute(
        select(
            func.coalesce(Segment.name, "—"),
            func.count().filter(m.status != MessageStatus.HELD_OUT),
            func.count().filter(m.sent_at.is_not(None)),
            func.count().filter(m.clicked_at.is_not(None)),
            func.count().filter(m.id.in_(opted_out_messages())),
            func.coalesce(func.sum(redeemed.c.orders), 0),
            func.coalesce(func.sum(redeemed.c.cents), 0),
        )
        .select_from(m)
        .outerjoin(CampaignStep, CampaignStep.id == m.step_id)
        .outerjoin(Segment, Segment.id == CampaignStep.segment_id)
        .outerjoin(redeemed, redeemed.c.promo_code == m.offer_code)
        .where(m.campaign_id == campaign_id)
        .group_by(Segment.name)
    ).all()
    frame = pd.DataFrame(
        rows,
        columns=[
            "segment",
            "targeted",
            "sent",
            "clicked",
            "unsubscribed",
            "redeemed",
            "code_revenue_cents",
        ],
    )
    frame[frame.columns[1:]] = frame[frame.columns[1:]].astype("int64")
    return frame.sort_values(["targeted", "segment"], ascending=[False, True], ignore_index=True)
