"""Customer scores: RFM, churn risk, predicted lifetime value, preferred category and rhythm.

One pass reads a per-customer summary of the orders up to the as-of day (aggregated in SQL),
scores everyone in pandas/numpy, and writes the scores back in batches. The BG/NBD and
Gamma-Gamma models (core.scoring.clv) are fitted on the store's own orders — on a sample when the
store is large — and checked on a holdout: fitted on all but the last HOLDOUT_DAYS, they predict
those days' revenue, which is compared with what actually came in.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    Float,
    SmallInteger,
    String,
    case,
    func,
    literal,
    select,
    update,
)
from sqlalchemy.orm import Session

from core.db import UnitOfWork, UTCDateTime
from core.errors import ValidationError
from core.infra import audit, bulk, events
from core.infra.job_rows import Progress, no_progress
from core.infra.sql import day_bucket
from core.models import Customer, Order, OrderItem, Setting
from core.permissions import Actor, Permission, authorize
from core.scoring import clv
from core.scoring.churn import churn_risk, days_between_purchases, typical_gap_days
from core.scoring.rfm import NO_PURCHASES, rfm_scores
from core.store_profile import get_store_profile

log = logging.getLogger(__name__)

HORIZON_DAYS = 365
HOLDOUT_DAYS = 90
FIT_SAMPLE = 50_000
"""Customers the models are fitted on; the fit is then applied to everyone."""
WRITE_BATCH = 50_000
MODEL_KEY = "scoring_model"


@dataclass(frozen=True)
class ScoringSummary:
    as_of: str
    horizon_days: int
    customers_scored: int
    model: str
    """"bg/nbd + gamma-gamma", or "rfm only" when the history is too thin to fit."""
    note: str = ""
    bgnbd: dict[str, float] = field(default_factory=dict)
    gamma_gamma: dict[str, float] = field(default_factory=dict)
    holdout: dict[str, Any] = field(default_factory=dict)
    typical_gap_days: float | None = None
    """Median days between purchase days of repeat buyers: what a one-time buyer's absence is
    judged against."""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def score_customers(
    *,
    unit_of_work: UnitOfWork,
    actor: Actor,
    now: datetime,
    as_of: date | None = None,
    horizon_days: int = HORIZON_DAYS,
    progress: Progress | None = None,
) -> ScoringSummary:
    """Score every customer from the orders on or before `as_of` (default: the day of the
    latest order up to `now`, in the store's time zone: scores are as fresh as the data)."""
    authorize(actor, Permission.EDIT_DATA)
    if horizon_days < 1:
        raise ValidationError("The horizon must be at least one day.", field="horizon_days")
    report = progress or no_progress
    # Progress is reported between transactions, never inside one: on SQLite the reporter's
    # own write would wait for this transaction's lock.
    report(5, "Summarising orders")
    with unit_of_work() as session:
        zone = get_store_profile(session=session).zone
        as_of = as_of or latest_order_day(session=session, now=now, zone=zone)
        end = datetime.combine(as_of + timedelta(days=1), time.min, zone).astimezone(UTC)
        summary = customer_summary(session=session, until=end)
        categories = preferred_categories(session=session, until=end)
    if summary.empty:
        raise ValidationError("There are no orders on or before that day to score from.")

    report(30, "Fitting the purchase and spend models")
    scores = rfm_scores(summary, end)
    model, note, fitted, holdout = "rfm only", "", {}, {}
    try:
        fitted = fit_models(summary, end)
        model = "bg/nbd + gamma-gamma"
    except ValidationError as exc:
        note = f"Predictions need more history: {exc} Scores are RFM only for now."
    if fitted:
        scores = scores.join(predict(fitted, summary, end, horizon_days))
        report(50, "Checking the model on the last 90 days")
        with unit_of_work() as session:
            holdout = holdout_check(session=session, until=end)
    gap = typical_gap_days(summary)
    churn = churn_risk(summary, scores["rfm_segment"], end, p_alive=scores.get("p_alive"), gap=gap)
    scores = scores.drop(columns="p_alive", errors="ignore").join(churn)
    scores = scores.join(rhythm(summary, end)).join(categories)

    report(70, f"Saving scores for {len(scores):,} customers")
    scored_at = now
    for start in range(0, len(scores), WRITE_BATCH):
        with unit_of_work() as session:
            _write_scores(session, scores.iloc[start : start + WRITE_BATCH], scored_at)
    with unit_of_work() as session:
        _mark_without_purchases(session, end, scored_at)
    result = ScoringSummary(
        as_of=as_of.isoformat(),
        horizon_days=horizon_days,
        customers_scored=len(scores),
        model=model,
        note=note,
        bgnbd=fitted["bgnbd"].as_dict() if fitted else {},
        gamma_gamma=fitted["gamma_gamma"].as_dict() if fitted else {},
        holdout=holdout,
        typical_gap_days=gap,
    )
    with unit_of_work() as session:
        _remember(session, result)
        events.record(
            session=session,
            type="scores_refreshed",
            user_id=actor.user_id,
            occurred_at=now,
            data=result.as_dict(),
        )
        audit.record(
            session=session,
            actor=actor,
            action="scoring.run",
            entity_type="store",
            changes={"as_of": result.as_of, "model": model},
        )
    report(100, "Scores ready")
    log.info("customers scored", extra={"scoring": result.as_dict()})
    return result


def latest_order_day(*, session: Session, now: datetime, zone: ZoneInfo) -> date:
    """The store-local day of the newest order placed by `now`; yesterday when there is none."""
    newest = session.scalar(select(func.max(Order.ordered_at)).where(Order.ordered_at <= now))
    return (newest or now - timedelta(days=1)).astimezone(zone).date()


def last_model(*, session: Session) -> ScoringSummary | None:
    stored = session.get(Setting, MODEL_KEY)
    return ScoringSummary(**stored.value) if stored else None


def _remember(session: Session, result: ScoringSummary) -> None:
    stored = session.get(Setting, MODEL_KEY)
    if stored is None:
        session.add(Setting(key=MODEL_KEY, value=result.as_dict()))
    else:
        stored.value = result.as_dict()


# --- data ----------------------------------------------------------------------------------


def customer_summary(
    *, session: Session, until: datetime, since: datetime | None = None
) -> pd.DataFrame:
    """Per customer with orders before `until` (and from `since`): orders, purchase days, first
    and last order, total spent, and the spend of the first purchase day (the models count
    repeat purchase *days*, and value them without the first). Indexed by customer_id."""
    day = day_bucket(Order.ordered_at)
    window = [
        Order.ordered_at < until,
        Customer.deleted_at.is_(None),
        *([Order.ordered_at >= since] if since is not None else []),
    ]
    daily = (
        select(
            Order.customer_id.label("customer_id"),
            day.label("day"),
            func.count(Order.id).label("orders"),
            func.min(Order.ordered_at).label("first"),
            func.max(Order.ordered_at).label("last"),
            func.sum(Order.total_cents).label("spent"),
        )
        .join(Customer, Customer.id == Order.customer_id)
        .where(*window)
        .group_by(Order.customer_id, day)
        .subquery()
    )
    first_day = func.min(daily.c.day).over(partition_by=daily.c.customer_id)
    ranked = select(daily, (daily.c.day == first_day).label("is_first")).subquery()
    query = select(
        ranked.c.customer_id,
        func.sum(ranked.c.orders),
        func.count(),
        func.min(ranked.c.first),
        func.max(ranked.c.last),
        func.sum(ranked.c.spent),
        func.sum(case((ranked.c.is_first, ranked.c.spent), else_=0)),
    ).group_by(ranked.c.customer_id)
    rows = [tuple(row) for row in session.execute(query)]
    frame = pd.DataFrame(
        rows,
        columns=["customer_id", "orders", "days", "first", "last", "spent", "first_day_spent"],
    )
    for column in ("first", "last"):
        frame[column] = pd.to_datetime(frame[column], utc=True, format="mixed")
    for column in ("orders", "days", "spent", "first_day_spent"):
        frame[column] = frame[column].astype("int64")
    return frame.set_index("customer_id")


def preferred_categories(*, session: Session, until: datetime) -> pd.DataFrame:
    """Each customer's category with the most spend (ties: alphabetical)."""
    spend = (
        select(
            Order.customer_id.label("customer_id"),
            OrderItem.category.label("category"),
            func.sum(OrderItem.line_total_cents).label("spend"),
        )
        .join(OrderItem, OrderItem.order_id == Order.id)
        .where(Order.ordered_at < until)
        .group_by(Order.customer_id, OrderItem.category)
        .subquery()
    )
    ranked = select(
        spend.c.customer_id,
        spend.c.category,
        func.row_number()
        .over(partition_by=spend.c.customer_id, order_by=(spend.c.spend.desc(), spend.c.category))
        .label("rank"),
    ).subquery()
    rows = [
        tuple(row)
        for row in session.execute(
            select(ranked.c.customer_id, ranked.c.category).where(ranked.c.rank == 1)
        )
    ]
    return pd.DataFrame(rows, columns=["customer_id", "preferred_category"]).set_index(
        "customer_id"
    )


def model_inputs(summary: pd.DataFrame, until: datetime) -> tuple[np.ndarray, ...]:
    """(x, t_x, T, m) as the published models define them: repeat purchase days, days from
    the first to the last purchase, days from the first purchase to the end, and the mean
    spend per *repeat* purchase day (the first day left out; 0 without repeats)."""
    x = (summary["days"] - 1).clip(lower=0).to_numpy(float)
    t_x = (summary["last"] - summary["first"]).dt.total_seconds().to_numpy() / 86400
    T = (pd.Timestamp(until) - summary["first"]).dt.total_seconds().to_numpy() / 86400
    repeat_spend = (summary["spent"] - summary["first_day_spent"]).to_numpy(float)
    m = np.divide(repeat_spend, x, out=np.zeros_like(x), where=x > 0)
    return x, t_x, T, m


def fit_models(summary: pd.DataFrame, until: datetime) -> dict[str, Any]:
    """BG/NBD and Gamma-Gamma fitted on (a sample of) the customers in `summary`."""
    sample = summary.sample(min(len(summary), FIT_SAMPLE), random_state=7)
    x, t_x, T, m = model_inputs(sample, until)
    # Identical histories count once, with a weight: far fewer rows to evaluate.
    rounded = pd.DataFrame({"x": x, "t_x": t_x.round(1), "T": T.round(1)})
    grouped = rounded.groupby(["x", "t_x", "T"]).size().reset_index(name="weight")
    bgnbd = clv.fit_bgnbd(
        grouped["x"].to_numpy(),
        grouped["t_x"].to_numpy(),
        grouped["T"].to_numpy(),
        grouped["weight"].to_numpy(float),
    )
    gamma_gamma = clv.fit_gamma_gamma(x, m)
    if gamma_gamma.q <= 1:
        raise ValidationError("Order values vary too wildly to predict spend.")
    return {"bgnbd": bgnbd, "gamma_gamma": gamma_gamma}


MAX_PREDICTED_CENTS = 10**13
"""$100 billion: past any one customer's spend, and well inside a 64-bit column."""


def predict(
    fitted: dict[str, Any], summary: pd.DataFrame, until: datetime, days: int
) -> pd.DataFrame:
    x, t_x, T, m = model_inputs(summary, until)
    alive = clv.p_alive(fitted["bgnbd"], x, t_x, T)
    orders = clv.expected_purchases(fitted["bgnbd"], days, x, t_x, T)
    value = clv.expected_order_value(fitted["gamma_gamma"], x, m)
    spend = orders * value  # expected purchase days × expected spend per purchase day
    # A figure the arithmetic could not give (an overflow far past the data) is left empty
    # rather than stored as a made-up number.
    sane = np.isfinite(spend) & (np.abs(spend) < MAX_PREDICTED_CENTS)
    return pd.DataFrame(
        {
            "p_alive": alive,
            "expected_orders": np.where(np.isfinite(orders), orders, np.nan),
            "predicted_clv_cents": pd.array(np.where(sane, np.round(spend), np.nan), dtype="Int64"),
        },
        index=summary.index,
    )


def rhythm(summary: pd.DataFrame, until: datetime) -> pd.DataFrame:
    """Average order, average days between purchase days, and the next purchase day expected."""
    gap = days_between_purchases(summary)
    next_day = (summary["last"] + pd.to_timedelta(gap, unit="D")).dt.date
    return pd.DataFrame(
        {
            "average_order_cents": (summary["spent"] // summary["orders"]).astype("int64"),
            "days_between_orders": gap,
            "next_order_expected_on": next_day.where(gap.notna(), None),
        },
        index=summary.index,
    )


def holdout_check(*, session: Session, until: datetime, days: int = HOLDOUT_DAYS) -> dict[str, Any]:
    """Fit on the orders before the last `days`, predict those days, compare with reality.

    Returns:
        Predicted and actual revenue and orders for the holdout days, and the revenue error
        (|predicted − actual| / actual); empty when there is too little history to split.
    """
    cutoff = until - timedelta(days=days)
    calibration = customer_summary(session=session, until=cutoff)
    if calibration.empty:
        return {}
    try:
        fitted = fit_models(calibration, cutoff)
    except ValidationError:
        return {}
    predicted = predict(fitted, calibration, cutoff, days)
    actual = customer_summary(session=session, until=until, since=cutoff)
    actual = actual.reindex(calibration.index)  # customers new in the holdout are not predicted
    predicted_revenue = float(predicted["predicted_clv_cents"].sum())
    actual_revenue = float(actual["spent"].fillna(0).sum())
    predicted_orders = float(predicted["expected_orders"].sum())
    actual_orders = float(actual["days"].fillna(0).sum())
    error = abs(predicted_revenue - actual_revenue) / actual_revenue if actual_revenue else None
    each_predicted = predicted["predicted_clv_cents"].astype(float)
    each_actual = actual["spent"].fillna(0).astype(float)
    known = each_predicted.notna()
    gaps = (each_predicted[known] - each_actual[known]).abs()
    spread = each_predicted[known].std() > 0 and each_actual[known].std() > 0
    correlation = each_predicted[known].corr(each_actual[known]) if spread else None
    return {
        "days": days,
        "customers": len(calibration),
        "repeat_customers": int((calibration["days"] > 1).sum()),
        "predicted_revenue_cents": round(predicted_revenue),
        "actual_revenue_cents": round(actual_revenue),
        "predicted_purchase_days": round(predicted_orders, 1),
        "actual_purchase_days": round(actual_orders),
        "revenue_error": None if error is None else round(error, 4),
        "per_customer_mae_cents": round(float(gaps.mean())) if len(gaps) else None,
        "spend_correlation": None if correlation is None else round(float(correlation), 3),
    }


MIN_REPEAT_CUSTOMERS = 200
MIN_HOLDOUT_PURCHASE_DAYS = 100


def too_little_history(holdout: dict[str, Any]) -> str | None:
    """Why the predictions should not be trusted yet, or None. A fit on a few dozen repeat
    buyers, or a check on a handful of holdout purchases, says little either way."""
    if not holdout:
        return "There is not yet enough history to check the predictions against real orders."
    repeat = holdout.get("repeat_customers", 0)
    if repeat < MIN_REPEAT_CUSTOMERS:
        return (
            f"Only {repeat:,} customers have bought on more than one day before the last "
            f"{holdout['days']} days; predictions become trustworthy from about "
            f"{MIN_REPEAT_CUSTOMERS:,}."
        )
    if holdout["actual_purchase_days"] < MIN_HOLDOUT_PURCHASE_DAYS:
        return (
            f"The last {holdout['days']} days hold only {holdout['actual_purchase_days']:,} "
            "purchase days to check the predictions against."
        )
    return None


def _score_columns() -> tuple[Column[Any], ...]:
    """Scratch columns for a batch of scores (fresh objects: a Column belongs to one table)."""
    return (
        Column("customer_id", BigInteger, primary_key=True, autoincrement=False),
        Column("r_score", SmallInteger),
        Column("f_score", SmallInteger),
        Column("m_score", SmallInteger),
        Column("rfm_segment", String),
        Column("p_alive", Float),
        Column("churn_risk", String),
        Column("expected_orders", Float),
        Column("predicted_clv_cents", BigInteger),
        Column("preferred_category", String),
        Column("average_order_cents", BigInteger),
        Column("days_between_orders", Float),
        Column("next_order_expected_on", Date),
    )


def _write_scores(session: Session, scores: pd.DataFrame, scored_at: datetime) -> None:
    columns = _score_columns()
    scratch = bulk.temp_table(session, "score_updates", *columns)
    frame = scores.reset_index()
    for column in columns:
        if column.name not in frame:
            frame[column.name] = None
    bulk.insert_frame(session, scratch, frame[[c.name for c in columns]])
    s = scratch.c
    session.execute(
        update(Customer)
        .where(Customer.id == s.customer_id)
        .values(
            **{c.name: s[c.name] for c in columns if c.name != "customer_id"},
            scored_at=literal(scored_at, UTCDateTime()),
        )
        .execution_options(synchronize_session=False)
    )


def _mark_without_purchases(session: Session, until: datetime, scored_at: datetime) -> None:
    """Customers with no order yet get a segment that says so, and no predictions."""
    bought = select(Order.id).where(Order.customer_id == Customer.id, Order.ordered_at < until)
    session.execute(
        update(Customer)
        .where(Customer.deleted_at.is_(None), ~bought.exists())
        .values(
            r_score=None,
            f_score=None,
            m_score=None,
            rfm_segment=NO_PURCHASES,
            p_alive=None,
            churn_risk=None,
            expected_orders=None,
            predicted_clv_cents=None,
            preferred_category=None,
            average_order_cents=None,
            days_between_orders=None,
            next_order_expected_on=None,
            scored_at=literal(scored_at, UTCDateTime()),
        )
        .execution_options(synchronize_session=False)
    )


def distribution(*, session: Session) -> dict[str, pd.DataFrame]:
    """How live customers spread over RFM segments and churn bands, with their predicted value."""
    live = Customer.deleted_at.is_(None)
    out = {}
    for name, column in (
        ("rfm_segment", Customer.rfm_segment),
        ("churn_risk", Customer.churn_risk),
    ):
        rows = session.execute(
            select(
                column,
                func.count(Customer.id),
                func.coalesce(func.sum(Customer.predicted_clv_cents), 0),
                func.coalesce(func.sum(Customer.total_spent_cents), 0),
            )
            .where(live, column.is_not(None))
            .group_by(column)
        ).all()
        out[name] = pd.DataFrame(
            [tuple(row) for row in rows],
            columns=[name, "customers", "predicted_value_cents", "spent_cents"],
        )
    return out
