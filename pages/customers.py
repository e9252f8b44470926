from core.permissions import Permission
from ui.guard import require
from ui.placeholder import coming_soon

require(Permission.VIEW)
coming_soon(
    "Customers",
    "Everyone who shops with you, with their purchases, consent and scores.",
    [
        "A searchable list, 50 a page, filtered by segment, churn risk, consent and ZIP",
        "Customer profiles with purchase history, consent history and an activity timeline",
        "Import customers and orders from your point-of-sale (CSV or Excel), with a preview "
        "and a report of every row that could not be read",
        "Export any list to CSV, safe to open in Excel",
    ],
)
