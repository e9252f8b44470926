"""Users: add people, change roles, deactivate, reset passwords (administrators only)."""

import pandas as pd
import streamlit as st

from core import auth
from core.db import session_scope
from core.errors import DomainError
from core.permissions import ROLE_DESCRIPTIONS, Permission, Role
from ui.flash import flash, show_flash
from ui.guard import require

actor = require(Permission.MANAGE_USERS)
st.title("Users")
show_flash()

ROLES = list(Role)


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
            "Last sign-in": u.last_login_at,
            "Locked until": u.locked_until,
        }
        for u in auth.list_users(session=session, actor=actor)
    ]

st.dataframe(
    pd.DataFrame(users).drop(columns="id"),
    hide_index=True,
    width="stretch",
    column_config={"Last sign-in": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")},
)

add, change = st.tabs(["Add a user", "Change a user"])

with add, st.form("add_user", clear_on_submit=True):
    name = st.text_input("Name")
    email = st.text_input("Email")
    role = st.selectbox(
        "Role", ROLES, index=ROLES.index(Role.MARKETER), format_func=role_label, key="new_role"
    )
    if st.form_submit_button("Add user", type="primary"):
        try:
            with session_scope() as session:
                user, temporary = auth.create_user(
                    session=session, actor=actor, email=email, name=name, role=role
                )
                added = user.email
        except DomainError as exc:
            st.error(str(exc))
        else:
            flash(
                f"Added {added}. Give them this temporary password; they choose their own at "
                f"first sign-in. It is shown only once: `{temporary}`"
            )
            st.rerun()

with change:
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
            try:
                with session_scope() as session:
                    auth.update_user(
                        session=session,
                        actor=actor,
                        user_id=target["id"],
                        role=new_role,
                        is_active=active,
                    )
            except DomainError as exc:
                st.error(str(exc))
            else:
                flash("Saved.")
                st.rerun()
        if st.button("Issue a new temporary password", key="reset_password"):
            try:
                with session_scope() as session:
                    temporary = auth.reset_password(
                        session=session, actor=actor, user_id=target["id"]
                    )
            except DomainError as exc:
                st.error(str(exc))
            else:
                st.success(f"New temporary password (shown once): `{temporary}`")
