from core.permissions import Permission
from ui.guard import require
from ui.placeholder import coming_soon

require(Permission.VIEW)
coming_soon(
    "Messages",
    "Email and text messages, sent fast, exactly once, and within the law.",
    [
        "Templates with variables, live preview and compliant footers",
        "Sending through Mailgun, SMTP or Twilio, or a sandbox that sends nothing",
        "Delivery tracking, one-click unsubscribe, STOP and HELP handling",
        "A live send monitor with retries",
    ],
)
