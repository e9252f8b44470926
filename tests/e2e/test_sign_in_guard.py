"""A fresh server whose first request names a page still asks to sign in first."""

import os
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import appears
from tests.server import running_app

pytestmark = pytest.mark.e2e


def test_a_first_visit_to_a_page_url_still_asks_to_sign_in(browser: Any, tmp_path: Path) -> None:
    """On a fresh server the first request names a page: the frame must still run first."""
    from core import auth
    from core.db import reset_engines, session_scope
    from core.infra import migration_runner

    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    migration_runner.upgrade(url)
    os.environ["DATABASE_URL"], previous = url, os.environ.get("DATABASE_URL", "")
    try:
        reset_engines()
        with session_scope() as session:
            auth.create_first_admin(
                session=session, email="a@example.com", name="A", password="a long enough password"
            )
    finally:
        os.environ["DATABASE_URL"] = previous
        reset_engines()
    with running_app({"DATABASE_URL": url}) as base:
        page = browser.new_page()
        page.goto(f"{base}/users")
        appears(page.get_by_role("button", name="Sign in"))
        assert page.get_by_text("Please sign in.").count() == 0
        assert page.get_by_text("Add a user").count() == 0
        page.close()
