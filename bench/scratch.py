"""Scratch databases for the benchmarks: a SQLite file in a temporary folder, or a PostgreSQL
database created for the run and dropped after it."""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, make_url, text

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def add_database_arguments(
    parser: argparse.ArgumentParser, backends: tuple[str, ...] = ("sqlite", "postgresql")
) -> None:
    parser.add_argument("--backends", nargs="+", default=list(backends))
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES, help="server to create them on")


@contextmanager
def scratch_database(backend: str, folder: Path, postgres: str = DEFAULT_POSTGRES) -> Iterator[str]:
    """The URL of an empty database on `backend`, removed afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / f'bench_{uuid.uuid4().hex[:8]}.db'}"
        return
    name = f"lastcall_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(make_url(postgres).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(postgres).set(database=name).render_as_string(hide_password=False)
    finally:
        from core.db import reset_engines

        reset_engines()
        if os.environ.get("BENCH_KEEP"):  # to look into the filled store afterwards
            print(f"kept database {name}", flush=True)
        else:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def each_database(args: argparse.Namespace) -> Iterator[tuple[str, str]]:
    """(backend, url) of a fresh scratch database for each backend the command line names."""
    with tempfile.TemporaryDirectory() as folder:
        for backend in args.backends:
            with scratch_database(backend, Path(folder), args.postgres) as url:
                yield backend, url


def analyze(url: str) -> None:
    """Fresh planner statistics after a bulk fill, as autovacuum would give them in time."""
    if url.startswith("postgresql"):
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text("VACUUM ANALYZE"))
        engine.dispose()


def report(**figures: object) -> None:
    """Print the figures as one JSON line, with the process's peak memory."""
    figures["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(figures), flush=True)
