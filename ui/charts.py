"""Charts shared by pages."""

from __future__ import annotations

import plotly.graph_objects as go

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
