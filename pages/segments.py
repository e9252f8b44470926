from core.permissions import Permission
from ui.guard import require
from ui.placeholder import coming_soon

require(Permission.VIEW)
coming_soon(
    "Segments",
    "Groups of customers to talk to, kept up to date as they shop.",
    [
        "RFM scores, churn risk and predicted lifetime value for every customer",
        "A visual rule builder with a live count",
        "Ready-made liquor-store playbooks: lapsed wine buyers, game-day beer regulars, "
        "holiday spirits collectors and more",
        "Lookalike audiences and segment overlap",
    ],
)
