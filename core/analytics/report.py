"""A period's report for managers, as CSV or PDF: the dashboard's key figures against the
period before, revenue over time, by category, the campaigns that started in the period, and
the cohorts and churn up to its last day. The PDF's charts are the dashboard's own plotly
figures, rendered by kaleido in a headless Chromium."""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import BinaryIO, TextIO
from zoneinfo import ZoneInfo

import pandas as pd
import plotly.graph_objects as go
from sqlalchemy.orm import Session

from core.analytics import charts
from core.analytics.dashboard import Dashboard, dashboard, write_figures_csv
from core.analytics.kpis import CampaignStart
from core.analytics.periods import Bucket, Period
from core.analytics.retention import churn_by_month, cohorts
from core.analytics.trends import category_revenue, revenue_trend
from core.attribution import ReportRow, campaign_report, format_roi
from core.errors import ValidationError
from core.infra.csv_safe import write_csv
from core.infra.money import format_dollars

FONTS = Path("/usr/share/fonts/truetype/dejavu")
"""DejaVu Sans (Debian's fonts-dejavu-core, which Chromium brings): the report's text has
dashes, ± and × that the PDF's built-in fonts cannot show."""
WIDTH_MM = 180


class ReportFormat(StrEnum):
    PDF = "pdf"
    CSV = "csv"


def default_bucket(period: Period) -> Bucket:
    """Days for a month or less, weeks up to half a year, months beyond."""
    if period.days <= 31:
        return Bucket.DAY
    return Bucket.WEEK if period.days <= 183 else Bucket.MONTH


@dataclass(frozen=True)
class Report:
    store_name: str
    zone: ZoneInfo
    made_at: datetime
    board: Dashboard
    bucket: Bucket
    trend: pd.DataFrame
    categories: pd.DataFrame
    campaigns: list[ReportRow]
    """The campaigns whose first message went out in the period."""
    retention: pd.DataFrame
    churn: pd.DataFrame

    @property
    def period(self) -> Period:
        return self.board.period


def gather_report(
    *,
    session: Session,
    period: Period,
    zone: ZoneInfo,
    now: datetime,
    store_name: str,
    bucket: Bucket | None = None,
) -> Report:
    board = dashboard(session=session, period=period, zone=zone, now=now)
    started = {c.id for c in board.current.campaigns}
    chosen = bucket or default_bucket(period)
    return Report(
        store_name=store_name,
        zone=zone,
        made_at=now,
        board=board,
        bucket=chosen,
        trend=revenue_trend(session=session, period=period, zone=zone, bucket=chosen, now=now),
        categories=category_revenue(session=session, period=period, zone=zone, now=now),
        campaigns=[r for r in campaign_report(session=session, now=now) if r.id in started],
        retention=cohorts(session=session, today=period.last, zone=zone, now=now).retention,
        churn=churn_by_month(session=session, today=period.last, zone=zone, now=now),
    )


def write_report_csv(out: TextIO, report: Report) -> None:
    """Three tables one after another, each under a title row: the key figures, revenue per
    bucket, and the period's campaigns. Safe to open in Excel."""
    write_figures_csv(out, report.board)
    out.write(f"\r\nRevenue by {report.bucket.value}\r\n")
    write_csv(
        out,
        [report.bucket.value, "revenue", "orders"],
        (
            [start, round(cents / 100, 2), orders]
            for start, cents, orders in report.trend.itertuples(index=False)
        ),
    )
    out.write("\r\nCampaigns that started in the period\r\n")
    write_csv(
        out,
        [
            "campaign",
            "first sent",
            "really sent",
            "by offer code",
            "in the window",
            "incremental",
            "cost",
        ],
        (
            [
                row.name,
                first.first_sent_at.astimezone(report.zone).date(),
                row.results.figures.really_sent,
                round(row.results.revenue.code_cents / 100, 2),
                round(row.results.revenue.window_cents / 100, 2),
                _incremental_dollars(row),
                round(row.results.cost_cents / 100, 2),
            ]
            for row, first in _with_starts(report)
        ),
    )


def _incremental_dollars(row: ReportRow) -> float | None:
    lift = row.results.lift
    incremental = lift.incremental if lift else None
    return round(incremental.difference / 100, 2) if incremental else None


def _with_starts(report: Report) -> list[tuple[ReportRow, CampaignStart]]:
    starts = {c.id: c for c in report.board.current.campaigns}
    return [(row, starts[row.id]) for row in report.campaigns]


Render = Callable[[list[go.Figure]], list[bytes]]


def render_png(figures: list[go.Figure]) -> list[bytes]:
    """PNG images of `figures`, one headless Chromium for them all (kaleido)."""
    import kaleido

    try:
        kaleido.start_sync_server(silence_warnings=True)
    except Exception as exc:  # kaleido says little more than "no browser" in many ways
        raise ValidationError(
            f"The PDF's charts need Chromium (apt-get install -y chromium): {exc}"
        ) from exc
    try:
        with warnings.catch_warnings():  # plotly warns that the running server ignores kopts
            warnings.simplefilter("ignore", UserWarning)
            return [
                f.update_layout(template="plotly_white").to_image(
                    format="png", width=1000, height=450, scale=2
                )
                for f in figures
            ]
    finally:
        kaleido.stop_sync_server(silence_warnings=True)


def write_report_pdf(out: BinaryIO, report: Report, *, render: Render = render_png) -> int:
    """Write the PDF to `out`; returns its number of pages."""
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    period, previous = report.period, report.period.previous()
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_font("DejaVu", "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.set_title(f"{report.store_name}: {period.label()}")
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 18)
    pdf.cell(text=report.store_name, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 11)
    pdf.cell(text=f"{period.label()}, against {previous.label()}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 8)
    pdf.cell(
        text=f"Days in {report.zone.key}. Made {report.made_at:%Y-%m-%d %H:%M} UTC by Last Call.",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(4)

    heading = FontFace(emphasis="BOLD", fill_color=(243, 228, 232))
    pdf.set_font("DejaVu", "", 9)
    with pdf.table(
        col_widths=(60, 40, 40, 40),
        text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT"),
        headings_style=heading,
        line_height=6,
    ) as table:
        table.row(["Figure", "This period", "Previous period", "Change"])
        for figure in report.board.figures:
            table.row(
                [
                    figure.label,
                    figure.value_text(),
                    figure.text(figure.previous),
                    figure.change_text() or "—",
                ]
            )
    reasons = dict.fromkeys(f.why for f in report.board.figures if f.why)
    if reasons:
        pdf.set_font("DejaVu", "", 8)
        pdf.multi_cell(WIDTH_MM, 4, "— " + " ".join(reasons), new_x="LMARGIN", new_y="NEXT")

    figures = [
        charts.trend_figure(
            report.trend,
            list(report.board.current.campaigns),
            bucket=report.bucket,
            zone=report.zone,
        )
    ]
    if not report.categories.empty:
        figures.append(charts.category_figure(report.categories))
    if not report.retention.empty:
        figures.append(charts.retention_figure(report.retention))
    if report.churn["churn_rate"].notna().any():
        figures.append(charts.churn_figure(report.churn, today=period.last))
    images = render(figures)

    pdf.ln(4)
    pdf.image(io.BytesIO(images[0]), w=WIDTH_MM)
    for image in images[1:2]:
        pdf.image(io.BytesIO(image), w=WIDTH_MM)

    pdf.add_page()
    pdf.set_font("DejaVu", "B", 12)
    pdf.cell(text="Campaigns that started in the period", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 8)
    if not report.campaigns:
        pdf.cell(text="None.", new_x="LMARGIN", new_y="NEXT")
    else:
        with pdf.table(
            col_widths=(46, 20, 16, 22, 22, 30, 18, 16),
            text_align=("LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"),
            headings_style=heading,
            line_height=5,
        ) as table:
            table.row(
                [
                    "Campaign",
                    "Started",
                    "Sent",
                    "By code",
                    "In window",
                    "Incremental",
                    "Cost",
                    "Return",
                ]
            )
            for row, first in _with_starts(report):
                result = row.results
                lift = result.lift.incremental if result.lift else None
                table.row(
                    [
                        row.name,
                        f"{first.first_sent_at.astimezone(report.zone):%b %-d}",
                        f"{row.results.figures.really_sent:,}",
                        format_dollars(result.revenue.code_cents),
                        format_dollars(result.revenue.window_cents),
                        lift.in_dollars() if lift else "—",
                        format_dollars(result.cost_cents),
                        format_roi(result.roi) if result.roi is not None else "—",
                    ]
                )
    pdf.ln(4)
    for image in images[2:]:
        pdf.image(io.BytesIO(image), w=WIDTH_MM)
    out.write(pdf.output())
    return pdf.pages_count


def pdf_report(
    *,
    session: Session,
    period: Period,
    zone: ZoneInfo,
    now: datetime,
    store_name: str,
    bucket: Bucket | None = None,
) -> bytes:
    """The period's report as PDF bytes (the Analytics page's download)."""
    found = gather_report(
        session=session,
        period=period,
        zone=zone,
        now=now,
        store_name=store_name,
        bucket=bucket,
    )
    out = io.BytesIO()
    write_report_pdf(out, found)
    return out.getvalue()


def parse_day(text: str, field: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationError(f"{field}: {text!r} is not a date like 2026-11-30.") from None
