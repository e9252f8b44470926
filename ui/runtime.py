"""Process-wide start-up for the Streamlit side: logging and an up-to-date schema, once."""

from __future__ import annotations

import streamlit as st

from core.config import get_settings
from core.infra import migration_runner
from core.infra.logs import configure_logging


@st.cache_resource(show_spinner="Preparing the database…")
def prepare(database_url: str) -> None:
    """Run once per process and database: app.py's lifespan usually did it already."""
    configure_logging(get_settings().log_level)
    migration_runner.ensure_current(database_url)


def prepare_current() -> None:
    prepare(get_settings().database_url)
