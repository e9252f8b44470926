"""The app's pages, grouped as the sidebar shows them, each with the permission it needs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

from core.permissions import Actor, Permission


@dataclass(frozen=True)
class PageSpec:
    path: str
    title: str
    icon: str
    section: str
    permission: Permission = Permission.VIEW
    default: bool = False
    hidden: bool = False
    """Reached from other pages (a customer's profile), not listed in the sidebar."""

    @property
    def url_path(self) -> str:
        return self.path.removeprefix("pages/").removesuffix(".py")


PAGES = (
    PageSpec("pages/home.py", "Home", ":material/home:", "Overview", default=True),
    PageSpec("pages/customers.py", "Customers", ":material/group:", "Customers"),
    PageSpec("pages/customer.py", "Customer", ":material/person_search:", "Customers", hidden=True),
    PageSpec(
        "pages/imports.py",
        "Import data",
        ":material/upload_file:",
        "Customers",
        Permission.EDIT_DATA,
    ),
    PageSpec("pages/segments.py", "Segments", ":material/filter_alt:", "Segments"),
    PageSpec("pages/segment.py", "Segment", ":material/tune:", "Segments", hidden=True),
    PageSpec("pages/scoring.py", "Scores", ":material/insights:", "Segments"),
    PageSpec("pages/campaigns.py", "Campaigns", ":material/campaign:", "Campaigns"),
    PageSpec("pages/campaign.py", "Campaign", ":material/edit_calendar:", "Campaigns", hidden=True),
    PageSpec("pages/actions.py", "Actions", ":material/checklist:", "Campaigns"),
    PageSpec("pages/messages.py", "Sends", ":material/mail:", "Messages"),
    PageSpec("pages/templates.py", "Templates", ":material/article:", "Messages"),
    PageSpec("pages/analytics.py", "Analytics", ":material/monitoring:", "Analytics"),
    PageSpec("pages/compliance.py", "Compliance", ":material/gavel:", "Settings"),
    PageSpec("pages/jobs.py", "Background jobs", ":material/pending_actions:", "Settings"),
    PageSpec(
        "pages/store.py",
        "Store profile",
        ":material/storefront:",
        "Settings",
        Permission.MANAGE_SETTINGS,
    ),
    PageSpec(
        "pages/users.py", "Users", ":material/manage_accounts:", "Settings", Permission.MANAGE_USERS
    ),
    PageSpec("pages/account.py", "My account", ":material/person:", "Settings"),
)

ACCOUNT_PAGE = next(p for p in PAGES if p.url_path == "account")


def visible_pages(actor: Actor) -> list[PageSpec]:
    return [spec for spec in PAGES if actor.can(spec.permission)]


def navigation_for(actor: Actor, *, must_change_password: bool = False) -> dict[str, list[st.Page]]:
    """st.navigation's sections for this user. A user with a temporary password sees only the
    account page until they choose their own."""
    specs = [ACCOUNT_PAGE] if must_change_password else visible_pages(actor)
    sections: dict[str, list[st.Page]] = {}
    for spec in specs:
        page = st.Page(
            spec.path,
            title=spec.title,
            icon=spec.icon,
            url_path=spec.url_path,
            default=spec.default or must_change_password,
            visibility="hidden" if spec.hidden else "visible",
        )
        sections.setdefault(spec.section, []).append(page)
    return sections


def signed_out_navigation(sign_in: Callable[[], None]) -> list[st.Page]:
    """While nobody is signed in, every page's address shows the sign-in form, and the address
    stays: once signed in, the page it names opens (a bookmark, a link in an email)."""
    return [st.Page(sign_in, title="Sign in", url_path="login", default=True)] + [
        st.Page(sign_in, title="Sign in", url_path=spec.url_path) for spec in PAGES
    ]
