"""Attribution: the orders each campaign brought in (by offer code and by window), what it
added over its control group, and what it cost."""

from core.attribution.lift import Interval, Lift, campaign_lift, welch_interval
from core.attribution.report import ReportRow, campaign_report, write_report_csv
from core.attribution.results import Results, campaign_results, format_roi
from core.attribution.revenue import Revenue, campaign_revenue
from core.attribution.settings import (
    MODEL_LABELS,
    AttributionSettings,
    Model,
    get_attribution_settings,
    save_attribution_settings,
)
from core.attribution.stored import (
    claim_refresh,
    data_stamp,
    refresh_stored_results,
    stored_results,
)

__all__ = [
    "MODEL_LABELS",
    "AttributionSettings",
    "Interval",
    "Lift",
    "Model",
    "ReportRow",
    "Results",
    "Revenue",
    "campaign_lift",
    "campaign_report",
    "campaign_results",
    "campaign_revenue",
    "claim_refresh",
    "data_stamp",
    "format_roi",
    "get_attribution_settings",
    "refresh_stored_results",
    "save_attribution_settings",
    "stored_results",
    "welch_interval",
    "write_report_csv",
]
