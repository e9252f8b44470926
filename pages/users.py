"""Users: add people, change roles, deactivate, reset passwords (administrators only)."""

import pandas as pd
import streamlit as st

from core import auth
from core.db import session_scope, utc_now
from core.models import User
from core.permissions import ROLE_DESCRIPTIONS, Permission, Role
from ui.calls import attempt, change
from ui.context import store_zone
from ui.flash import show_flash
from ui.formatting import when
from ui.guard import require


def show_temporary_password(password: str) -> None:
    """In a code block, so it has a copy button and a font where every character is clear."""
    st.success(
        "Give them this temporary password; they choose their own at first sign-in. "
        "It is shown only once."
    )
    st.code(password, language=None)


actor = require(Permission.MANAGE_USERS)
st.title("Users")
show_flash()
if new_password := st.session_state.pop("new_password", None):
    show_temporary_password(new_password)

ROLES = list(Role)
zone = store_zone()


def role_label(role: Role) -> str:
    return f"{role.title()} — {ROLE_DESCRIPTIONS[role]}"


with session_scope(read_only=True) as session:
    users = [
        {
            "id": u.id,
            "Name": u.name,
            "Email": u.email,
            "Role": u.role,
            "Active": u.is_active,
            "Last sign-in": when(u.last_login_at, zone, with_time=True)
            if u.last_login_at
            else "Never",
            "Locked until": u.locked_until,
            "Locked": when(u.locked_until, zone, with_time=True)
            if u.locked_until and u.locked_until > utc_now()
            else "No",
        }
        for u in auth.list_users(session=session, actor=actor)
    ]

st.dataframe(
    pd.DataFrame(users).drop(columns=["id", "Locked until"]),
    hide_index=True,
    width="stretch",
    column_config={
        "Locked": st.column_config.TextColumn(help="Locked until, after failed sign-ins")
    },
)
st.caption(f"Times are the store's ({zone.key}).")


def added(made: tuple[User, str | None]) -> str:
    """Keep the temporary password for the next run, which shows it once."""
    st.session_state["new_password"] = made[1]
    return f"Added {made[0].email}."


adding, changing = st.tabs(["Add a user", "Change a user"])

with adding, st.form("add_user", clear_on_submit=True):
    name = st.text_input("Name")
    email = st.text_input("Email")
    role = st.selectbox(
        "Role", ROLES, index=ROLES.index(Role.MARKETER), format_func=role_label, key="new_role"
    )
    if st.form_submit_button("Add user", type="primary"):
        change(
            lambda s: auth.create_user(session=s, actor=actor, email=email, name=name, role=role),
            added,
        )

with changing:
    by_label = {f"{u['Name']} <{u['Email']}>": u for u in users}
    chosen = st.selectbox("User", list(by_label))
    if chosen:
        target = by_label[chosen]
        with st.form("change_user"):
            new_role = st.selectbox(
                "Role",
                ROLES,
                index=ROLES.index(Role(target["Role"])),
                format_func=role_label,
                key=f"role_of_{target['id']}",
            )
            active = st.checkbox(
                "Active (can sign in)", value=target["Active"], key=f"active_{target['id']}"
            )
            save = st.form_submit_button("Save changes", type="primary")
        if save:
            change(
                lambda s: auth.update_user(
                    session=s,
                    actor=actor,
                    user_id=target["id"],
                    role=new_role,
                    is_active=active,
                    now=utc_now(),
                ),
                "Saved. If they were signed in, they sign in again as who they are now.",
            )
        if st.button("Issue a new temporary password", key="reset_password") and (
            reset := attempt(
                lambda s: auth.reset_password(
                    session=s, actor=actor, user_id=target["id"], now=utc_now()
                )
            )
        ):
            show_temporary_password(reset.value)
        locked_until = target["Locked until"]
        if locked_until is not None and locked_until > utc_now():
            st.warning("This account is locked after too many failed sign-ins.")
            if st.button("Unlock now", key="unlock_user"):
                change(
                    lambda s: auth.unlock_user(session=s, actor=actor, user_id=target["id"]),
                    f"Unlocked {target['Email']}.",
                )
