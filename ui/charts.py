"""Charts shared by pages."""

from __future__ import annotations

import itertools
import math
from datetime import date, datetime, time

import numpy as np
import plotly.graph_objects as go

from core.models import CampaignStep
from core.segments import Overlap

PALETTE = ("#8A1538", "#1F6F8B", "#B36B00")


def lens_area(r1: float, r2: float, d: float) -> float:
    """The area two circles of radii r1, r2 with centres d apart have in common."""
    if d >= r1 + r2:
        return 0.0
    if d <= abs(r1 - r2):
        return math.pi * min(r1, r2) ** 2
    a1 = r1**2 * math.acos((d**2 + r1**2 - r2**2) / (2 * d * r1))
    a2 = r2**2 * math.acos((d**2 + r2**2 - r1**2) / (2 * d * r2))
    corner = 0.5 * math.sqrt((-d + r1 + r2) * (d + r1 - r2) * (d - r1 + r2) * (d + r1 + r2))
    return a1 + a2 - corner


def distance_for(r1: float, r2: float, shared: float) -> float:
    """The centre distance at which the circles share `shared` area (bisection: the shared
    area only falls as they move apart)."""
    low, high = abs(r1 - r2), r1 + r2
    for _ in range(60):
        middle = (low + high) / 2
        low, high = (middle, high) if lens_area(r1, r2, middle) > shared else (low, middle)
    return (low + high) / 2


def venn_layout(overlap: Overlap) -> list[tuple[float, float, float]]:
    """(x, y, radius) per set: each circle's area is its set's size and each pair of circles
    overlaps by the customers the two sets share (exactly for two sets; for three, the pairs
    are exact and the middle is as close as three circles allow). The largest radius is 1."""
    n = len(overlap.names)
    sizes = [overlap.total(i) for i in range(n)]
    largest = max(max(sizes), 1)
    radii = [math.sqrt(size / largest) for size in sizes]

    def apart(i: int, j: int) -> float:
        shared = sum(count for key, count in overlap.counts.items() if key[i] and key[j])
        return distance_for(radii[i], radii[j], math.pi * shared / largest)

    centres = [(0.0, 0.0), (apart(0, 1), 0.0)]
    if n == 3:
        ab, ac, bc = centres[1][0], apart(0, 2), apart(1, 2)
        x = (ac**2 - bc**2 + ab**2) / (2 * ab) if ab else 0.0
        centres.append((x, -math.sqrt(max(ac**2 - x**2, 0.0))))
    middle_x = sum(x for x, _ in centres) / n
    middle_y = sum(y for _, y in centres) / n
    return [(x - middle_x, y - middle_y, r) for (x, y), r in zip(centres, radii, strict=True)]


def region_middles(
    circles: list[tuple[float, float, float]], steps: int = 160
) -> dict[tuple[bool, ...], tuple[float, float]]:
    """The middle of each region (which circles a point is in), from a grid of points: where
    its label goes. A region too small to hold a grid point gets no label."""
    reach = max(max(abs(x) + r, abs(y) + r) for x, y, r in circles)
    grid = np.linspace(-reach, reach, steps)
    xs, ys = np.meshgrid(grid, grid)
    inside = [(xs - x) ** 2 + (ys - y) ** 2 <= r**2 for x, y, r in circles]
    middles = {}
    for key in itertools.product((True, False), repeat=len(circles)):
        if not any(key):
            continue
        region = np.logical_and.reduce(
            [mask if member else ~mask for mask, member in zip(inside, key, strict=True)]
        )
        if region.any():
            middles[key] = (float(xs[region].mean()), float(ys[region].mean()))
    return middles


def venn_figure(overlap: Overlap) -> go.Figure:
    """Overlapping circles sized by their sets, each region labelled with its customer count
    at the middle of the region."""
    circles = venn_layout(overlap)
    figure = go.Figure()
    for (x, y, r), name, colour in zip(circles, overlap.names, PALETTE, strict=False):
        figure.add_shape(
            type="circle",
            x0=x - r,
            y0=y - r,
            x1=x + r,
            y1=y + r,
            fillcolor=colour,
            opacity=0.3,
            line={"color": colour, "width": 2},
        )
        # The name sits outside the circle, away from the others (the layout is centred).
        length = math.hypot(x, y)
        ux, uy = (x / length, y / length) if length > 1e-6 else (0.0, 1.0)
        total = overlap.total(overlap.names.index(name))
        figure.add_annotation(
            x=x + ux * (r + 0.08),
            y=y + uy * (r + 0.08),
            text=f"<b>{name}</b><br>{total:,}",
            showarrow=False,
            xanchor="left" if ux > 0.3 else "right" if ux < -0.3 else "center",
            yanchor="bottom" if uy > 0.3 else "top" if uy < -0.3 else "middle",
            font={"color": colour, "size": 14},
        )
    for key, (x, y) in region_middles(circles).items():
        count = overlap.counts.get(key, 0)
        figure.add_annotation(
            x=x, y=y, text=f"<b>{count:,}</b>", showarrow=False, font={"size": 15, "color": "#222"}
        )
    reach = max(max(abs(x) + r, abs(y) + r) for x, y, r in circles) + 0.4
    figure.update_xaxes(visible=False, range=[-reach * 1.6, reach * 1.6])
    figure.update_yaxes(visible=False, range=[-reach, reach], scaleanchor="x")
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
