"""Audiences found in the data: RFM clusters, lookalikes of a segment, and suggestions.

- Clusters: k-means on log recency, frequency and spend (standardised), k chosen by silhouette,
  each cluster named from its centre.
- Lookalikes: a logistic regression tells a seed segment's members from everyone else on
  behaviour (RFM, favourite-category shares, basket, chance of still buying); the non-members it
  rates most seed-like form the audience. Similarity = the audience's mean score relative to the
  seed's own.
- Suggestions: playbooks not yet in use and sizeable clusters, with their size and predicted
  value, biggest opportunity first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import segments
from core.errors import ValidationError
from core.models import Category, Customer, Order, OrderItem, Segment
from core.permissions import Actor
from core.segments import playbooks
from core.segments.rules import baseline
from core.store_profile import get_store_profile

CLUSTER_SAMPLE = 50_000
SILHOUETTE_SAMPLE = 2_000
"""Customers the number of clusters is chosen on: the score costs the square of it, and 2,000
choose as 5,000 do on the demo store in a fifth of the time."""
K_RANGE = range(3, 9)
NON_MEMBER_SAMPLE = 20_000
SEED = 11


def behaviour(session: Session, *, now: datetime, category_shares: bool = True) -> pd.DataFrame:
    """One row per live, adult customer with orders: the features audiences are built on.
    The category shares read every order line, so clustering (which does not use them) skips
    them."""
    customers = pd.DataFrame(
        [
            tuple(row)
            for row in session.execute(
                select(
                    Customer.id,
                    Customer.last_order_at,
                    Customer.order_count,
                    Customer.total_spent_cents,
                    Customer.p_alive,
                    Customer.predicted_clv_cents,
                )
                .where(
                    baseline(get_store_profile(session=session).today(now)),
                    Customer.order_count > 0,
                )
                .order_by(Customer.id)
            )
        ],
        columns=["customer_id", "last_order", "orders", "spent", "p_alive", "clv"],
    ).set_index("customer_id")
    if customers.empty:
        return customers
    last = pd.to_datetime(customers["last_order"], utc=True, format="mixed")
    # Counted from the start of the day, so the same data gives the same figures all day long
    # (clusters that shift between two visits an hour apart look broken).
    today = pd.Timestamp(now).normalize()
    customers["recency_days"] = (today - last).dt.days.clip(lower=0)
    if not category_shares:
        return customers.fillna({"p_alive": 1.0, "clv": 0}).fillna(0)
    shares = pd.DataFrame(
        [
            tuple(row)
            for row in session.execute(
                select(Order.customer_id, OrderItem.category, func.sum(OrderItem.line_total_cents))
                .join(OrderItem, OrderItem.order_id == Order.id)
                .group_by(Order.customer_id, OrderItem.category)
            )
        ],
        columns=["customer_id", "category", "spend"],
    )
    if not shares.empty:
        wide = shares.pivot_table(
            index="customer_id", columns="category", values="spend", fill_value=0
        )
        wide = wide.reindex(columns=[str(c) for c in Category], fill_value=0)
        wide = wide.div(wide.sum(axis=1).replace(0, 1), axis=0).add_prefix("share_")
        customers = customers.join(wide, how="left")
    return customers.fillna({"p_alive": 1.0, "clv": 0}).fillna(0)


def _rfm_matrix(data: pd.DataFrame) -> np.ndarray:
    return np.column_stack(
        [np.log1p(data["recency_days"]), np.log1p(data["orders"]), np.log1p(data["spent"] / 100)]
    )


@dataclass(frozen=True)
class Cluster:
    index: int
    name: str
    customers: int
    recency_days: float
    orders: float
    spent_cents: int
    predicted_value_cents: int


@dataclass(frozen=True)
class Clustering:
    k: int
    silhouette: float
    clusters: list[Cluster]
    labels: pd.Series
    """Cluster index per customer id."""


def rfm_clusters(*, session: Session, now: datetime) -> Clustering:
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score
    from sklearn.preprocessing import StandardScaler

    data = behaviour(session, now=now, category_shares=False)
    if len(data) < 50:
        raise ValidationError("Clusters need at least 50 customers with orders.")
    matrix = StandardScaler().fit_transform(_rfm_matrix(data))
    rng = np.random.default_rng(SEED)
    fit_rows = rng.choice(len(matrix), min(len(matrix), CLUSTER_SAMPLE), replace=False)
    check_rows = fit_rows[: min(len(fit_rows), SILHOUETTE_SAMPLE)]
    best: tuple[float, Any] | None = None
    for k in K_RANGE:
        if k >= len(check_rows):
            break
        model = KMeans(n_clusters=k, n_init=4, random_state=SEED).fit(matrix[fit_rows])
        score = silhouette_score(matrix[check_rows], model.predict(matrix[check_rows]))
        if best is None or score > best[0]:
            best = (score, model)
    assert best is not None
    score, model = best
    labels = pd.Series(model.predict(matrix), index=data.index)
    centres = pd.DataFrame(model.cluster_centers_, columns=["recency", "frequency", "spend"])
    clusters = [
        Cluster(
            index=int(i),
            name=_cluster_name(centres.iloc[i]),
            customers=int((labels == i).sum()),
            recency_days=float(data.loc[labels == i, "recency_days"].mean()),
            orders=float(data.loc[labels == i, "orders"].mean()),
            spent_cents=int(data.loc[labels == i, "spent"].mean()),
            predicted_value_cents=int(data.loc[labels == i, "clv"].sum()),
        )
        for i in range(len(centres))
    ]
    clusters = _unique_names(sorted(clusters, key=lambda c: -c.predicted_value_cents))
    return Clustering(len(centres), float(score), clusters, labels)


def _cluster_name(centre: pd.Series) -> str:
    """Words from a standardised centre: below −0.5 or above +0.5 standard deviations."""
    recency = (
        "Recent" if centre["recency"] < -0.5 else "Lapsed" if centre["recency"] > 0.5 else "Steady"
    )
    frequency = (
        "frequent"
        if centre["frequency"] > 0.5
        else "one-off"
        if centre["frequency"] < -0.5
        else "regular"
    )
    spend = (
        "big spenders"
        if centre["spend"] > 0.5
        else "light spenders"
        if centre["spend"] < -0.5
        else "mid spenders"
    )
    return f"{recency} {frequency} {spend}"


def _unique_names(clusters: list[Cluster]) -> list[Cluster]:
    seen: dict[str, int] = {}
    out = []
    for cluster in clusters:
        seen[cluster.name] = seen.get(cluster.name, 0) + 1
        name = cluster.name if seen[cluster.name] == 1 else f"{cluster.name} ({seen[cluster.name]})"
        out.append(Cluster(**{**cluster.__dict__, "name": name}))
    return out


def save_cluster(*, session: Session, actor: Actor, name: str, now: datetime) -> Segment:
    """Keep the current members of the cluster called `name` as a hand-picked segment. Clusters
    are found afresh, so they are named by what they are, not by a position that can move."""
    clustering = rfm_clusters(session=session, now=now)
    cluster = next((c for c in clustering.clusters if c.name == name), None)
    if cluster is None:
        raise ValidationError(f"There is no '{name}' cluster any more; look at the clusters again.")
    segment = segments.create_static_segment(
        session=session,
        actor=actor,
        name=f"Cluster: {cluster.name}",
        description=f"k-means on recency, frequency and spend, {now:%Y-%m-%d}.",
    )
    members = clustering.labels[clustering.labels == cluster.index].index
    segments.add_members(
        session=session, actor=actor, segment_id=segment.id, customer_ids=members, now=now
    )
    return segment


@dataclass(frozen=True)
class Lookalike:
    seed_name: str
    seed_size: int
    customer_ids: list[int]
    similarity: float
    """The audience's mean seed-likeness relative to the seed's own (1.0 = as seed-like)."""
    size_at_target: int
    """The largest audience that stays at TARGET_SIMILARITY or better."""


TARGET_SIMILARITY = 0.8


def lookalike(
    *, session: Session, seed_segment_id: int, now: datetime, size: int | None = None
) -> Lookalike:
    """The `size` non-members most like a segment's members (default: the largest audience at
    80% similarity, up to the seed's size)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    seed = segments.get_segment(session=session, segment_id=seed_segment_id)
    data = behaviour(session, now=now)
    members = set(session.scalars(segments.member_ids(session=session, segment_id=seed_segment_id)))
    in_seed = data.index.isin(members)
    if in_seed.sum() < 10:
        raise ValidationError("A lookalike needs a seed segment with at least 10 buying members.")
    if (~in_seed).sum() == 0:
        raise ValidationError("Everyone is already in the seed segment.")
    features = pd.DataFrame(
        {
            "recency": np.log1p(data["recency_days"]),
            "orders": np.log1p(data["orders"]),
            "spend": np.log1p(data["spent"] / 100),
            "basket": np.log1p(data["spent"] / data["orders"].clip(lower=1) / 100),
            "p_alive": data["p_alive"],
        }
    ).join(data.filter(like="share_"))
    matrix = StandardScaler().fit_transform(features.to_numpy(float))
    rng = np.random.default_rng(SEED)
    others = np.flatnonzero(~in_seed)
    train_others = rng.choice(others, min(len(others), NON_MEMBER_SAMPLE), replace=False)
    rows = np.concatenate([np.flatnonzero(in_seed), train_others])
    labels = np.concatenate([np.ones(in_seed.sum()), np.zeros(len(train_others))])
    model = LogisticRegression(class_weight="balanced", max_iter=1000).fit(matrix[rows], labels)
    scores = pd.Series(model.predict_proba(matrix)[:, 1], index=data.index)
    ranked = scores[~in_seed].sort_values(ascending=False)
    seed_mean = float(scores[in_seed].mean())
    running = ranked.cumsum().to_numpy() / np.arange(1, len(ranked) + 1) / seed_mean
    at_target = int((running >= TARGET_SIMILARITY).sum())
    size = min(size or max(min(at_target, int(in_seed.sum())), 1), len(ranked))
    audience = ranked.head(size)
    similarity = min(float(audience.mean()) / seed_mean, 1.0)
    ids = [int(i) for i in audience.index]
    return Lookalike(seed.name, int(in_seed.sum()), ids, similarity, at_target)


def save_lookalike(
    *, session: Session, actor: Actor, seed_segment_id: int, now: datetime, size: int | None = None
) -> Segment:
    result = lookalike(session=session, seed_segment_id=seed_segment_id, now=now, size=size)
    segment = segments.create_static_segment(
        session=session,
        actor=actor,
        name=f"Lookalike: {result.seed_name}",
        description=f"{len(result.customer_ids):,} customers {result.similarity:.0%} as seed-like "
        f"as '{result.seed_name}' itself ({now:%Y-%m-%d}).",
    )
    segments.add_members(
        session=session,
        actor=actor,
        segment_id=segment.id,
        customer_ids=result.customer_ids,
        now=now,
    )
    return segment


@dataclass(frozen=True)
class Suggestion:
    kind: str
    """playbook or cluster"""
    key: str
    title: str
    why: str
    customers: int
    predicted_value_cents: int


def suggestions(
    *, session: Session, now: datetime, clustering: Clustering | None = None, limit: int = 6
) -> list[Suggestion]:
    """Audiences worth a segment that the store does not have yet, most value first (from
    `clustering` when the caller has one already)."""
    found: list[Suggestion] = []
    taken = playbooks.used(session=session)
    for playbook in playbooks.PLAYBOOKS:
        if playbook.key in taken:
            continue
        group = segments.check_rules(session=session, rules=playbook.rules)
        ids = segments.matching(session, group, now=now).subquery()
        size, value = session.execute(
            select(func.count(), func.coalesce(func.sum(Customer.predicted_clv_cents), 0))
            .select_from(Customer)
            .join(ids, ids.c.id == Customer.id)
        ).one()
        if size:
            why = f"{playbook.why} Offer: {playbook.offer.description}."
            found.append(Suggestion("playbook", playbook.key, playbook.name, why, size, value or 0))
    if clustering is None:
        try:
            clustering = rfm_clusters(session=session, now=now)
        except ValidationError:
            clustering = None
    if clustering is not None:
        total = sum(c.customers for c in clustering.clusters)
        existing = set(session.scalars(select(Segment.name)))
        for cluster in clustering.clusters:
            if cluster.customers >= 0.05 * total and f"Cluster: {cluster.name}" not in existing:
                found.append(
                    Suggestion(
                        "cluster",
                        cluster.name,
                        cluster.name,
                        f"A natural group: {cluster.orders:.1f} orders on average, last "
                        f"seen {cluster.recency_days:.0f} days ago.",
                        cluster.customers,
                        cluster.predicted_value_cents,
                    )
                )
    return sorted(found, key=lambda s: -s.predicted_value_cents)[:limit]
