from core.permissions import Permission
from ui.guard import require
from ui.placeholder import coming_soon

require(Permission.VIEW)
coming_soon(
    "Analytics",
    "What your marketing earned, and who is slipping away.",
    [
        "Revenue per campaign, cohorts, churn and funnels",
        "A/B test results with significance",
        "Date ranges, interactive charts, CSV and PDF export",
    ],
)
