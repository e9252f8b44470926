"""Charts shared by pages."""

from __future__ import annotations

from datetime import date, datetime, time

import plotly.graph_objects as go

from core.models import CampaignStep
from core.segments import Overlap

PALETTE = ("#8A1538", "#1F6F8B", "#B36B00")
CIRCLES = {
    2: ((-0.55, 0.0), (0.55, 0.0)),
    3: ((-0.55, 0.35), (0.55, 0.35), (0.0, -0.55)),
}
"""Circle centres (radius 1) for two and three sets."""


def venn_figure(overlap: Overlap) -> go.Figure:
    """Overlapping circles, each region labelled with its customer count."""
    n = len(overlap.names)
    centres = CIRCLES[n]
    figure = go.Figure()
    for (x, y), name, colour in zip(centres, overlap.names, PALETTE, strict=False):
        figure.add_shape(
            type="circle",
            x0=x - 1,
            y0=y - 1,
            x1=x + 1,
            y1=y + 1,
            fillcolor=colour,
            opacity=0.25,
            line={"color": colour, "width": 2},
        )
        total = overlap.total(overlap.names.index(name))
        figure.add_annotation(
            x=x + (x * 0.9),
            y=y + (1.15 if y >= 0 else -1.15),
            text=f"<b>{name}</b><br>{total:,}",
            showarrow=False,
            font={"color": colour},
        )
    for key, count in overlap.counts.items():
        inside = [centres[i] for i, member in enumerate(key) if member]
        outside = [centres[i] for i, member in enumerate(key) if not member]
        x = sum(c[0] for c in inside) / len(inside) - 0.35 * sum(c[0] for c in outside) / max(
            len(outside), 1
        )
        y = sum(c[1] for c in inside) / len(inside) - 0.35 * sum(c[1] for c in outside) / max(
            len(outside), 1
        )
        figure.add_annotation(x=x, y=y, text=f"{count:,}", showarrow=False, font={"size": 15})
    figure.update_xaxes(visible=False, range=[-2.4, 2.4])
    figure.update_yaxes(visible=False, range=[-2.0, 2.0], scaleanchor="x")
    figure.update_layout(height=420, margin={"l": 10, "r": 10, "t": 10, "b": 10}, showlegend=False)
    return figure


CHANNEL_COLOURS = {"email": PALETTE[1], "sms": PALETTE[0]}


def plan_timeline(
    steps: list[CampaignStep], segment_names: dict[int, str], days: tuple[date, date]
) -> go.Figure:
    """The plan over the campaign's `days` (first, last): one dot per send at its day and local
    time, a row per segment, coloured by channel, sized by reach."""
    figure = go.Figure()
    largest = max((s.expected_reach for s in steps), default=1) or 1
    for channel, colour in CHANNEL_COLOURS.items():
        chosen = [s for s in steps if s.channel == channel]
        if not chosen:
            continue
        figure.add_trace(
            go.Scatter(
                x=[datetime.combine(s.day, time.fromisoformat(s.local_time)) for s in chosen],
                y=[segment_names.get(s.segment_id or 0, "—") for s in chosen],
                mode="markers",
                name=channel.upper() if channel == "sms" else channel.title(),
                marker={
                    "size": [14 + 26 * (s.expected_reach / largest) for s in chosen],
                    "color": colour,
                    "opacity": 0.8,
                },
                customdata=[[s.offer_description, s.expected_reach, s.local_time] for s in chosen],
                hovertemplate="%{y}<br>%{x|%a %b %d} %{customdata[2]} local<br>"
                "%{customdata[0]}<br>%{customdata[1]:,} customers<extra></extra>",
            )
        )
    first, last = days
    figure.update_xaxes(
        tickformat="%a %b %d",
        dtick=86_400_000,
        showgrid=True,
        range=[datetime.combine(first, time.min), datetime.combine(last, time.max)],
    )
    figure.update_yaxes(automargin=True)
    figure.update_layout(
        height=140 + 40 * len({s.segment_id for s in steps}),
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        legend={"orientation": "h", "y": 1.1},
    )
    return figure


def funnel_figure(stages: list[tuple[str, float]]) -> go.Figure:
    """Targeted → sent → … → purchased, each bar labelled with its share of the first."""
    figure = go.Figure(
        go.Funnel(
            y=[label for label, _ in stages],
            x=[value for _, value in stages],
            textinfo="value+percent initial",
            marker={"color": PALETTE[0]},
        )
    )
    figure.update_layout(height=60 + 45 * len(stages), margin={"l": 10, "r": 10, "t": 10, "b": 10})
    return figure
