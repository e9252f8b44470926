from core.permissions import Permission
from ui.guard import require
from ui.placeholder import coming_soon

require(Permission.VIEW)
coming_soon(
    "Campaigns",
    "Plan a week of marketing in minutes and let it run.",
    [
        "A four-step builder: details, audience, strategy, review and schedule",
        "An AI planner that proposes a 7-day plan with offers and timing, and a rule-based "
        "planner when no AI is configured",
        "300 prioritised per-customer actions, each with the right offer",
        "Scheduling, pause and resume, and live status",
    ],
)
