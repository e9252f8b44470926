"""`python -m core`: each command works, prints JSON, and fails clearly on bad input."""

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core import auth
from core.__main__ import main
from core.db import session_scope
from core.models import Customer, User

ROOT = Path(__file__).resolve().parents[2]


def run(capsys: pytest.CaptureFixture[str], *argv: str, stdin: str = "") -> tuple[int, dict | str]:
    sys.stdin = io.StringIO(stdin)
    try:
        code = main(list(argv))
    finally:
        sys.stdin = sys.__stdin__
    out, err = capsys.readouterr()
    return code, (json.loads(out) if code == 0 else err)


def test_help_lists_the_commands() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "core", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    for command in ("migrate", "downgrade", "create-user", "demo"):
        assert command in result.stdout


def test_unknown_command_exits_non_zero() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "core", "frobnicate"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 2 and "invalid choice" in result.stderr


def test_migrate_and_downgrade(database: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "migrate") == (0, {"revision": "0001"})
    code, result = run(capsys, "downgrade", "--revision", "base")
    assert (code, result) == (0, {"revision": None})
    assert run(capsys, "migrate") == (0, {"revision": "0001"})


def test_create_user_reads_the_password_from_stdin(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, result = run(
        capsys, "create-user", "--email", "Boss@Example.com", "--role", "admin", "--password-stdin",
        stdin="a long enough password\n",
    )  # fmt: skip
    assert code == 0 and result["email"] == "boss@example.com" and result["role"] == "admin"
    with session_scope() as session:
        user = session.scalars(select(User)).one()
        assert user.name == "Boss" and auth.verify_password(
            "a long enough password", user.password_hash
        )

    code, error = run(
        capsys,
        "create-user",
        "--email",
        "boss@example.com",
        "--password-stdin",
        stdin="another password\n",
    )
    assert code == 2 and "already exists" in error
    code, error = run(
        capsys, "create-user", "--email", "x@example.com", "--password-stdin", stdin="short\n"
    )
    assert code == 2 and "at least 10 characters" in error
    code, error = run(capsys, "create-user", "--email", "x@example.com")
    assert code == 2 and "no password" in error


def test_demo_loads_once(database: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, first = run(capsys, "demo", "--customers", "50", "--seed", "1")
    assert code == 0 and first["created"] and first["customers"] == 50
    code, second = run(capsys, "demo", "--customers", "50", "--seed", "1")
    assert code == 0 and not second["created"]
    with session_scope() as session:
        assert session.scalar(select(func.count(Customer.id))) == 50
    code, error = run(capsys, "demo", "--customers", "0")
    assert code == 2 and "at least 1" in error
