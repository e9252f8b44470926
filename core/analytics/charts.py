"""The dashboard's charts as plotly figures: the Analytics page draws them and the PDF report
renders the very same figures to images."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pandas as pd
import plotly.graph_objects as go

from core.analytics.kpis import CampaignStart
from core.analytics.periods import Bucket

WINE, TEAL, AMBER, GREY = "#8A1538", "#1F6F8B", "#B36B00", "#9AA0A6"
MARGIN = {"l": 10, "r": 10, "t": 50, "b": 10}
DAY_MS = 86_400_000
AXIS_TICKS = {
    Bucket.DAY: {"tickformat": "%b %-d"},
    Bucket.WEEK: {"tickformat": "%b %-d"},
    Bucket.MONTH: {"tickformat": "%b %Y", "dtick": "M1"},
}
BUCKET_WORDS = {Bucket.DAY: "Day", Bucket.WEEK: "Week starting", Bucket.MONTH: "Month"}


def trend_figure(
    trend: pd.DataFrame, starts: list[CampaignStart], *, bucket: Bucket, zone: ZoneInfo
) -> go.Figure:
    """Revenue per bucket as bars, a dashed line where each campaign's first message went out."""
    figure = go.Figure(
        go.Bar(
            x=trend["start"],
            y=trend["revenue_cents"] / 100,
            customdata=trend["orders"],
            marker_color=WINE,
            hovertemplate="%{x}<br>$%{y:,.0f} from %{customdata:,} orders<extra></extra>",
            name="Revenue",
        )
    )
    for i, start in enumerate(starts):
        day = start.first_sent_at.astimezone(zone).date()
        figure.add_shape(
            type="line",
            x0=day,
            x1=day,
            yref="paper",
            y0=0,
            y1=1,
            line={"color": TEAL, "dash": "dash", "width": 1.5},
        )
        figure.add_annotation(
            x=day,
            yref="paper",
            y=1 - 0.08 * (i % 3),
            text=start.name,
            showarrow=False,
            xanchor="left",
            font={"color": TEAL, "size": 11},
            bgcolor="rgba(255,255,255,0.8)",
        )
    figure.update_layout(
        title=f"Revenue by {bucket.value}, campaigns marked where they started",
        xaxis={"title": BUCKET_WORDS[bucket], **AXIS_TICKS[bucket]},
        yaxis_title="Revenue ($)",
        yaxis_tickformat="$,.0f",
        margin=MARGIN,
        showlegend=False,
    )
    return figure


def category_figure(categories: pd.DataFrame) -> go.Figure:
    """Revenue by category, this period beside the one before."""
    names = categories["category"].str.title()
    figure = go.Figure(
        [
            go.Bar(
                y=names,
                x=categories["previous_cents"] / 100,
                name="Previous period",
                orientation="h",
                marker_color=GREY,
            ),
            go.Bar(
                y=names,
                x=categories["revenue_cents"] / 100,
                name="This period",
                orientation="h",
                marker_color=WINE,
            ),
        ]
    )
    figure.update_layout(
        title="Revenue by category",
        barmode="group",
        xaxis_tickformat="$,.0f",
        yaxis={"autorange": "reversed"},
        legend={"orientation": "h", "y": -0.15},
        margin=MARGIN,
    )
    return figure


def retention_figure(retention: pd.DataFrame) -> go.Figure:
    """Cohorts (rows) by months since their first order (columns), the share still ordering."""
    labels = [f"{c:%b %Y}" for c in retention.index]
    shares = retention.to_numpy(dtype=float) * 100
    text = [["" if pd.isna(v) else f"{v:.0f}%" for v in row] for row in shares]
    figure = go.Figure(
        go.Heatmap(
            z=shares,
            x=[str(m) for m in retention.columns],
            y=labels,
            text=text,
            texttemplate="%{text}",
            colorscale=[[0, "#FBEFF2"], [1, WINE]],
            zmin=0,
            zmax=100,
            hovertemplate="%{y}, month %{x}: %{z:.1f}% ordered<extra></extra>",
            colorbar={"title": "%"},
        )
    )
    figure.update_layout(
        title="Share of each cohort ordering, by months since its first order",
        xaxis_title="Months since first order",
        yaxis={"autorange": "reversed"},
        margin=MARGIN,
        height=max(300, 32 * len(labels) + 120),
    )
    return figure


def churn_figure(churn: pd.DataFrame, *, today: date) -> go.Figure:
    """Churn rate month by month; the month in progress drawn apart."""
    rates = churn["churn_rate"].astype(float) * 100
    figure = go.Figure(
        go.Scatter(
            x=churn["month"],
            y=rates,
            customdata=churn[["churned", "churn_base"]],
            mode="lines+markers",
            line={"color": WINE},
            hovertemplate="%{x|%B %Y}: %{y:.1f}% (%{customdata[0]:,} of %{customdata[1]:,})"
            "<extra></extra>",
            connectgaps=False,
        )
    )
    figure.update_layout(
        title=f"Churn rate by month ({today:%B} so far)",
        yaxis_title="Churn rate (%)",
        yaxis_rangemode="tozero",
        xaxis_tickformat="%b %Y",
        margin=MARGIN,
        showlegend=False,
    )
    return figure


STAGE_COLOURS = {"sent": GREY, "delivered": TEAL, "opened": AMBER, "clicked": WINE}


def activity_figure(daily: pd.DataFrame) -> go.Figure:
    """A campaign's messages sent, delivered, opened and clicked, each on the day it happened."""
    figure = go.Figure(
        [
            go.Bar(x=daily["day"], y=daily[stage], name=stage.title(), marker_color=colour)
            for stage, colour in STAGE_COLOURS.items()
        ]
    )
    figure.update_layout(
        title="Day by day",
        barmode="group",
        yaxis_title="Messages",
        xaxis={"tickformat": "%b %-d", "dtick": DAY_MS},
        legend={"orientation": "h", "y": -0.2},
        margin=MARGIN,
        height=320,
    )
    return figure
