"""Analytics: the home page's glance, and the dashboard a manager opens — key figures against
the period before, revenue over time, by category and by segment, cohorts and churn."""

from core.analytics.campaign import CampaignActivity, campaign_activity
from core.analytics.dashboard import Dashboard, Figure, Unit, dashboard, write_figures_csv
from core.analytics.kpis import CHURN_DAYS, CampaignStart, Kpis, campaigns_started, kpis
from core.analytics.overview import Overview, overview, weekly_revenue
from core.analytics.periods import Bucket, Period
from core.analytics.retention import (
    Cohorts,
    churn_by_month,
    churn_by_segment,
    cohorts,
)
from core.analytics.trends import (
    category_revenue,
    first_order_day,
    revenue_trend,
    segment_performance,
)

__all__ = [
    "CHURN_DAYS",
    "Bucket",
    "CampaignActivity",
    "CampaignStart",
    "Cohorts",
    "Dashboard",
    "Figure",
    "Kpis",
    "Overview",
    "Period",
    "Unit",
    "campaign_activity",
    "campaigns_started",
    "category_revenue",
    "churn_by_month",
    "churn_by_segment",
    "cohorts",
    "dashboard",
    "first_order_day",
    "kpis",
    "overview",
    "revenue_trend",
    "segment_performance",
    "weekly_revenue",
    "write_figures_csv",
]
