"""Command line: `python -m core COMMAND`. Run `python -m core --help` for the list.

Each command prints what it did (JSON where a script may read it) and exits non-zero with a clear
message on bad input.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

from core import auth, schema
from core.config import get_settings
from core.db import session_scope
from core.errors import DomainError
from core.logs import configure_logging
from core.permissions import SYSTEM, Role


class CommandError(Exception):
    """Bad input to a command: printed without a traceback, exit status 2."""


def cmd_migrate(args: argparse.Namespace) -> dict[str, Any]:
    schema.upgrade(revision=args.revision)
    return {"revision": schema.current_revision()}


def cmd_downgrade(args: argparse.Namespace) -> dict[str, Any]:
    schema.downgrade(revision=args.revision)
    return {"revision": schema.current_revision()}


def cmd_create_user(args: argparse.Namespace) -> dict[str, Any]:
    schema.ensure_current()
    password = _read_password(args)
    with session_scope() as session:
        if args.role == Role.ADMIN and not auth.has_users(session=session):
            user = auth.create_first_admin(
                session=session, email=args.email, name=args.name, password=password
            )
        else:
            user, _ = auth.create_user(
                session=session,
                actor=SYSTEM,
                email=args.email,
                name=args.name,
                role=Role(args.role),
                password=password,
            )
        return {"id": user.id, "email": user.email, "role": user.role}


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    elif sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Repeat the password: "):
            raise CommandError("the two passwords differ")
    else:
        raise CommandError(
            "no password: pass --password-stdin and pipe it in, or run in a terminal"
        )
    if not password:
        raise CommandError("the password is empty")
    return password


def cmd_demo(args: argparse.Namespace) -> dict[str, Any]:
    from core import demo

    if args.customers < 1:
        raise CommandError("--customers must be at least 1")
    schema.ensure_current()
    summary = demo.load_demo(
        unit_of_work=session_scope, actor=SYSTEM, customers=args.customers, seed=args.seed
    )
    return summary.as_dict()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m core",
        description="Last Call's command line. The database is DATABASE_URL "
        "(default: the SQLite file under data/).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    migrate = commands.add_parser("migrate", help="upgrade the database schema (default: newest)")
    migrate.add_argument("--revision", default="head")
    migrate.set_defaults(run=cmd_migrate)

    downgrade = commands.add_parser("downgrade", help="step the schema back (default: one step)")
    downgrade.add_argument("--revision", default="-1", help="a revision id, -1, or base")
    downgrade.set_defaults(run=cmd_downgrade)

    user = commands.add_parser("create-user", help="add a user who can sign in")
    user.add_argument("--email", required=True)
    user.add_argument("--name", default="", help="display name (default: the email's name)")
    user.add_argument("--role", choices=[r.value for r in Role], default=Role.MARKETER.value)
    user.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    user.set_defaults(run=cmd_create_user)

    from core.demo import DEFAULT_CUSTOMERS, DEFAULT_SEED

    demo = commands.add_parser("demo", help="load the demo liquor store (once; reruns do nothing)")
    demo.add_argument("--customers", type=int, default=DEFAULT_CUSTOMERS)
    demo.add_argument("--seed", type=int, default=DEFAULT_SEED)
    demo.set_defaults(run=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "name", None) == "" and getattr(args, "email", None):
        args.name = args.email.split("@")[0]
    configure_logging(get_settings().log_level)
    run: Callable[[argparse.Namespace], dict[str, Any]] = args.run
    try:
        result = run(args)
    except (CommandError, DomainError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
