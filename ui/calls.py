"""How pages call core: one transaction per action, a refusal shown in words, a change confirmed
after the rerun that redraws the page with it, and the entity a page's address names."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, NoReturn, TypeVar

import streamlit as st

from core.db import session_scope
from core.errors import DomainError
from ui.flash import flash

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

T = TypeVar("T")


@dataclass(frozen=True)
class Done(Generic[T]):
    """What a core call returned, once it succeeded."""

    value: T


def attempt(work: Callable[[Session], T], *, read_only: bool = False) -> Done[T] | None:
    """`work(session)` in a transaction of its own. When core refuses (a DomainError: bad input,
    no permission, a conflict), the reason is shown where the page is and None returned."""

    def in_transaction() -> T:
        with session_scope(read_only=read_only) as session:
            return work(session)

    return attempt_flow(in_transaction)


def attempt_flow(flow: Callable[[], T]) -> Done[T] | None:
    """A use case of jobs.flows (it keeps its own transactions), its refusal shown as above."""
    try:
        return Done(flow())
    except DomainError as exc:
        st.error(str(exc))
        return None


def change(
    work: Callable[[Session], T],
    done: str | Callable[[T], str],
    *,
    page: str | None = None,
    query_params: Callable[[T], dict[str, str]] | None = None,
) -> None:
    """Make a change and, once it is in, say `done` on the next run: the page reruns (or opens
    `page`) so forms redraw with what was saved. A refusal is shown and nothing reruns."""
    outcome = attempt(work)
    if outcome is None:
        return
    flash(done(outcome.value) if callable(done) else done)
    if page is None:
        st.rerun()
    params = query_params(outcome.value) if query_params else None
    st.switch_page(page, query_params=params)


def query_id(name: str = "id") -> int | None:
    """The whole number in the page address's `?name=`, or None."""
    raw = st.query_params.get(name, "")
    return int(raw) if raw.isdigit() else None


def not_found(title: str, message: str, *, back: str, label: str, icon: str) -> NoReturn:
    """Say that what the address names is not there, link back, and stop the page."""
    st.title(title)
    st.warning(message)
    st.page_link(back, label=label, icon=icon)
    st.stop()


def ask_before(action: str, subject: object = True) -> None:
    """Ask before `action` is done to `subject`: `confirmed(action, …)` shows the question from
    this run on, until it is answered."""
    st.session_state[f"confirm:{action}"] = subject


def confirmed(
    action: str, question: str | Callable[[Any], str], *, yes: str = "Yes, delete"
) -> Any | None:
    """When `ask_before(action, subject)` was called, show `question` (or `question(subject)`) with
    Yes and Cancel, and return the subject in the run where Yes is clicked; None otherwise (Cancel
    forgets the question)."""
    key = f"confirm:{action}"
    if key not in st.session_state:
        return None
    subject = st.session_state[key]
    st.warning(question(subject) if callable(question) else question)
    answers = st.container(horizontal=True)
    if answers.button(yes, type="primary", key=f"{key}:yes"):
        return st.session_state.pop(key)
    if answers.button("Cancel", key=f"{key}:no"):
        st.session_state.pop(key)
        st.rerun()
    return None
