"""Who may use the dashboard: users and their passwords, signing in, and the sessions that keep
them signed in."""

from core.auth.first_run import needs_setup_token, setup_token
from core.auth.sessions import (
    COOKIE_NAME,
    Ended,
    SignedIn,
    check_session,
    cookie_grant,
    end_session,
    end_session_of_token,
    open_session,
    redeem_grant,
    session_for_token,
)
from core.auth.sign_in import REFUSED, sign_in
from core.auth.users import (
    MIN_PASSWORD_LENGTH,
    actor_for,
    change_password,
    create_first_admin,
    create_user,
    get_active_user,
    get_user,
    has_users,
    list_users,
    reset_password,
    unlock_user,
    update_user,
)

__all__ = [
    "COOKIE_NAME",
    "MIN_PASSWORD_LENGTH",
    "REFUSED",
    "Ended",
    "SignedIn",
    "actor_for",
    "change_password",
    "check_session",
    "cookie_grant",
    "create_first_admin",
    "create_user",
    "end_session",
    "end_session_of_token",
    "get_active_user",
    "get_user",
    "has_users",
    "list_users",
    "needs_setup_token",
    "open_session",
    "redeem_grant",
    "reset_password",
    "session_for_token",
    "setup_token",
    "sign_in",
    "unlock_user",
    "update_user",
]
