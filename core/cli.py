"""Command line: `python -m core COMMAND`. Run `python -m core --help` for the list.

Each command prints what it did (JSON where a script may read it; `plan` and `actions` print text
unless given --json) and exits non-zero with a clear message on bad input.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
import tempfile
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any, TextIO

from core import auth
from core.config import get_settings
from core.db import session_scope, utc_now
from core.errors import DomainError
from core.infra import migration_runner
from core.infra.logs import configure_logging
from core.permissions import SYSTEM, Role


class CommandError(Exception):
    """Bad input to a command: printed without a traceback, exit status 2."""


def cmd_migrate(args: argparse.Namespace) -> dict[str, Any]:
    migration_runner.upgrade(revision=args.revision)
    return {"revision": migration_runner.current_revision()}


def cmd_downgrade(args: argparse.Namespace) -> dict[str, Any]:
    migration_runner.downgrade(revision=args.revision)
    return {"revision": migration_runner.current_revision()}


def cmd_create_user(args: argparse.Namespace) -> dict[str, Any]:
    migration_runner.ensure_current()
    password = _read_password(args)
    with session_scope() as session:
        if args.role == Role.ADMIN and not auth.has_users(session=session):
            user = auth.create_first_admin(
                session=session,
                email=args.email,
                name=args.name,
                password=password,
                now=utc_now(),
                client=None,
                setup_token=auth.setup_token(),  # whoever runs this holds the server's keys
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
    migration_runner.ensure_current()
    return demo.load_demo_store(
        unit_of_work=session_scope,
        actor=SYSTEM,
        now=utc_now(),
        customers=args.customers,
        seed=demo.DEFAULT_SEED if args.seed is None else args.seed,
    )


def cmd_import(args: argparse.Namespace) -> dict[str, Any]:
    from core import imports
    from core.imports.files import UnusableFile
    from core.models import ImportKind

    path = Path(args.path)
    if not path.is_file():
        raise CommandError(f"no such file: {path}")
    try:
        mapping = json.loads(args.mapping) if args.mapping else None
    except json.JSONDecodeError as exc:
        raise CommandError(f"--mapping is not valid JSON: {exc}") from exc
    options = {
        "create_customers": args.create_customers,
        "birth_dates_verified": args.birth_dates_verified,
    }
    migration_runner.ensure_current()
    try:
        with session_scope() as session:
            row = imports.prepare_import(
                session=session,
                actor=SYSTEM,
                kind=ImportKind(args.kind),
                path=path,
                filename=path.name,
                mapping=mapping,
                options=options,
            )
            import_id, used = row.id, dict(row.mapping)
            unused = imports.unused_columns(used, list(row.header))
        summary = imports.run_import(
            unit_of_work=session_scope, actor=SYSTEM, import_id=import_id, now=utc_now()
        )
    except UnusableFile as exc:
        raise CommandError(f"{path.name} cannot be imported: {exc}") from exc
    result = summary.as_dict() | {"mapping": used, "unused_columns": unused}
    result["errors_csv"] = None
    if summary.failed or summary.skipped or summary.warnings:
        report = _writable_sibling(path, ".errors.csv")
        with session_scope() as session:
            report.write_text(imports.problems_csv(session=session, import_id=import_id))
        result["errors_csv"] = str(report)
    return result


def _writable_sibling(path: Path, suffix: str) -> Path:
    target = path.with_name(path.stem + suffix)
    try:
        target.touch()
        return target
    except OSError:
        return Path(tempfile.gettempdir()) / target.name


def cmd_export(args: argparse.Namespace) -> dict[str, Any]:
    from core.customers.exports import export_customers
    from core.customers.search import CustomerFilter
    from core.messaging.exports import export_messages
    from core.segments.membership import get_segment
    from core.store_profile import get_store_profile

    migration_runner.ensure_current()
    out = Path(args.out)
    try:
        handle = out.open("w", newline="", encoding="utf-8-sig" if args.bom else "utf-8")
    except OSError as exc:
        raise CommandError(f"cannot write {out}: {exc}") from exc
    with handle:
        if args.what == "messages":
            rows = export_messages(
                unit_of_work=session_scope, actor=SYSTEM, out=handle, campaign_id=args.campaign
            )
            return {"rows": rows, "out": str(out)}
        with session_scope(read_only=True) as session:
            if args.segment is not None:
                get_segment(session=session, segment_id=args.segment)
            # Ages as of the store's day, not UTC's (evenings in America are tomorrow in UTC).
            today = get_store_profile(session=session).today(utc_now())
        rows = export_customers(
            unit_of_work=session_scope,
            actor=SYSTEM,
            out=handle,
            filters=CustomerFilter(segment_id=args.segment),
            today=today,
        )
    return {"rows": rows, "out": str(out)}


def cmd_preflight(args: argparse.Namespace) -> dict[str, Any]:
    """Who a campaign will reach and who the compliance rules keep out, by rule."""
    from core.campaigns import get_campaign
    from core.campaigns.preflight import preflight
    from core.store_profile import get_store_profile

    migration_runner.ensure_current()
    with session_scope(read_only=True) as session:
        campaign = get_campaign(session=session, campaign_id=args.campaign)
        today = get_store_profile(session=session).today(utc_now())
        return {
            "campaign_id": campaign.id,
            **preflight(session=session, campaign=campaign, today=today).as_dict(),
        }


def cmd_consent_report(args: argparse.Namespace) -> dict[str, Any]:
    """Every consent decision with its proof, for an audit (spreadsheet-safe CSV)."""
    from core.compliance import consent

    migration_runner.ensure_current()
    with _writable(Path(args.out)) as out:
        rows = consent.export_log(
            unit_of_work=session_scope, actor=SYSTEM, out=out, search=args.search or ""
        )
    return {"rows": rows, "out": args.out}


def cmd_suppressions(args: argparse.Namespace) -> dict[str, Any]:
    """Export the suppression list, or add every address of a file to it."""
    from core.messaging import suppressions

    migration_runner.ensure_current()
    if args.verb == "export":
        with _writable(Path(args.out)) as out, session_scope() as session:
            rows = suppressions.export_list(session=session, actor=SYSTEM, out=out)
        return {"rows": rows, "out": args.out}
    try:
        text = Path(args.file).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"cannot read {args.file}: {exc}") from exc
    with session_scope() as session:
        done = suppressions.import_list(session=session, actor=SYSTEM, text=text, now=utc_now())
    return {"added": done.added, "already": done.already, "problems": done.problems}


def _writable(path: Path) -> TextIO:
    try:
        return path.open("w", newline="", encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"cannot write {path}: {exc}") from exc


def cmd_privacy_export(args: argparse.Namespace) -> dict[str, Any]:
    """Everything about one customer: JSON, or a zip of CSVs when --out ends in .zip."""
    from core.customers import privacy

    migration_runner.ensure_current()
    out = Path(args.out)
    with session_scope() as session:
        data = privacy.personal_data(
            session=session, actor=SYSTEM, customer_id=args.customer, now=utc_now()
        )
        content = privacy.as_csv_zip(data) if out.suffix == ".zip" else privacy.as_json(data)
        try:
            out.write_bytes(content)
        except OSError as exc:
            raise CommandError(f"cannot write {out}: {exc}") from exc
    counts = {name: len(rows) for name, rows in data.items() if isinstance(rows, list)}
    return {"customer_id": args.customer, "out": str(out), **counts}


def cmd_privacy_erase(args: argparse.Namespace) -> dict[str, Any]:
    from core.customers import privacy

    migration_runner.ensure_current()
    with session_scope() as session:
        erasure = privacy.erase_customer(
            session=session,
            actor=SYSTEM,
            customer_id=args.customer,
            now=utc_now(),
            requested_on=args.requested_on,
        )
    return erasure.as_dict()


def cmd_score(args: argparse.Namespace) -> dict[str, Any]:
    from core import maintenance

    try:
        as_of = date.fromisoformat(args.as_of) if args.as_of else None
    except ValueError as exc:
        raise CommandError(f"--as-of must be a date like 2026-11-25: {exc}") from exc
    migration_runner.ensure_current()
    return maintenance.rescore(
        unit_of_work=session_scope,
        actor=SYSTEM,
        now=utc_now(),
        as_of=as_of,
        horizon_days=args.horizon_days,
    )


def cmd_plan(args: argparse.Namespace) -> dict[str, Any] | str:
    from datetime import timedelta

    from core.campaigns import planner
    from core.store_profile import get_store_profile

    if not 1 <= args.days <= 31:
        raise CommandError("--days must be 1 to 31")
    migration_runner.ensure_current()
    with session_scope(read_only=True) as session:
        zone = get_store_profile(session=session).zone
        today = utc_now().astimezone(zone).date()
        start = today + timedelta(days=1)
        segment_ids = args.segment or [s.id for s in planner.segment_choices(session=session)]
        context = planner.build_context(
            session=session,
            segment_ids=segment_ids,
            start=start,
            end=start + timedelta(days=args.days - 1),
            goal=args.goal,
            channels=tuple(args.channel),
            budget_cents=None if args.budget is None else round(args.budget * 100),
            today=today,
        )
    outcome = planner.make_plan(unit_of_work=session_scope, context=context, use_ai=not args.no_ai)
    names = {a.segment_id: a.name for a in context.audiences}
    result = {
        "source": outcome.source.value,
        "note": outcome.note,
        "repairs": outcome.repairs,
        "plan": outcome.plan.model_dump(mode="json"),
        "cost": {k: v for k, v in outcome.meta.items() if k != "cache_key"},
    }
    if args.json:
        return result
    lines = [outcome.note, *outcome.repairs, ""]
    for send in outcome.plan.sends:
        lines.append(
            f"{send.day:%a %Y-%m-%d} {send.local_time} {send.channel.value:<5} "
            f"{names.get(send.segment_id, send.segment_id)} ({send.expected_reach:,}): "
            f"{send.offer_description or send.offer_kind.value} — {send.angle}"
        )
    lines.append(f"\n{outcome.plan.summary}")
    return "\n".join(lines)


def cmd_campaigns(args: argparse.Namespace) -> list[dict[str, Any]]:
    from core import attribution

    migration_runner.ensure_current()
    with session_scope(read_only=True) as session:
        return [
            row.as_dict() for row in attribution.campaign_report(session=session, now=utc_now())
        ]


def cmd_attribution(args: argparse.Namespace) -> dict[str, Any]:
    """The store's attribution settings, after changing those given."""
    from pydantic import ValidationError as Invalid

    from core import attribution

    migration_runner.ensure_current()
    changes = {
        name: value
        for name, value in (
            ("click_window_days", args.click_days),
            ("view_window_days", args.view_days),
            ("model", args.model),
        )
        if value is not None
    }
    with session_scope() as session:
        current = attribution.get_attribution_settings(session=session)
        if changes:
            try:
                current = attribution.AttributionSettings.model_validate(
                    current.model_dump() | changes
                )
            except Invalid as exc:
                first = exc.errors()[0]
                raise CommandError(f"{first['loc'][0]}: {first['msg']}") from exc
            attribution.save_attribution_settings(session=session, actor=SYSTEM, settings=current)
        return current.model_dump(mode="json")


def cmd_report(args: argparse.Namespace) -> dict[str, Any]:
    """Write a period's report (CSV or PDF) and print its key figures."""
    from core.analytics import Bucket, Period, report
    from core.store_profile import get_store_profile

    migration_runner.ensure_current()
    out = Path(args.out)
    chosen = report.ReportFormat(args.format or out.suffix.lstrip(".").lower() or "pdf")
    now = utc_now()
    with session_scope(read_only=True) as session:
        store = get_store_profile(session=session)
        last = report.parse_day(args.to, "--to") if args.to else store.today(now)
        first = report.parse_day(args.since, "--from") if args.since else None
        period = Period(first, last) if first else Period.last_days(30, today=last)
        found = report.gather_report(
            session=session,
            period=period,
            zone=store.zone,
            now=now,
            store_name=store.name,
            bucket=Bucket(args.bucket) if args.bucket else None,
        )
    if chosen == report.ReportFormat.CSV:
        with out.open("w", newline="", encoding="utf-8") as handle:
            report.write_report_csv(handle, found)
        pages = None
    else:
        with out.open("wb") as binary:
            pages = report.write_report_pdf(binary, found)
    return {"out": str(out), "format": chosen.value, "pages": pages} | found.board.as_dict()


def cmd_weekly_report(args: argparse.Namespace) -> dict[str, Any]:
    """Show or choose who gets the weekly report; with --send, email last week's now."""
    from core.analytics import weekly
    from core.store_profile import get_store_profile

    migration_runner.ensure_current()
    now = utc_now()
    with session_scope() as session:
        chosen = weekly.get_weekly_settings(session=session)
        if args.to is not None:
            chosen = weekly.recipients_from(args.to)
            weekly.save_weekly_settings(session=session, actor=SYSTEM, settings=chosen)
        said: dict[str, Any] = chosen.model_dump(mode="json")
        if args.send:
            today = get_store_profile(session=session).today(now)
            said["sent"] = weekly.send_weekly_report(
                session=session, period=weekly.last_week(today), now=now, settings=get_settings()
            )
        return said


def cmd_abtest_stats(args: argparse.Namespace) -> dict[str, Any]:
    """Compare two variants' conversions as the test pages do."""
    from core import abtests

    found = abtests.compare_rates(
        args.a_n, args.a_conv, args.b_n, args.b_conv, confidence=args.confidence
    )
    needed = args.min_sample or 0
    return found.as_dict() | {
        "min_sample": needed,
        "verdict": abtests.verdict(found, needed=needed, metric=args.metric),
    }


def cmd_abtests(args: argparse.Namespace) -> list[dict[str, Any]]:
    """A campaign's A/B tests: each variant's results, the comparison with A, the verdict."""
    from core import abtests

    migration_runner.ensure_current()
    now = utc_now()
    with session_scope(read_only=True) as session:
        return [
            {
                "test_id": test.id,
                "step_id": test.step_id,
                "status": test.status.value,
                "winner": test.variants[test.winner].name if test.winner is not None else None,
                "decision": test.decision,
                "test_percent": test.test_percent,
                **abtests.test_results(session=session, test=test).as_dict(now),
            }
            for test in abtests.tests_of_campaign(session=session, campaign_id=args.campaign)
        ]


def cmd_abtest_choose(args: argparse.Namespace) -> dict[str, Any]:
    """Choose a test's winner as the page does; the share kept for it gets its messages written
    at once (the app's workers send them)."""
    from core import abtests
    from core.messaging import outbox

    migration_runner.ensure_current()
    letter = args.variant.strip().upper()
    if len(letter) != 1 or not "A" <= letter <= "Z":
        raise CommandError(f"--variant is a letter (A, B, C …), not {args.variant!r}.")
    now = utc_now()
    with session_scope() as session:
        test = abtests.choose_winner(
            session=session,
            actor=SYSTEM,
            test_id=args.test,
            position=ord(letter) - ord("A"),
            now=now,
        )
        written = outbox.queue_rollout(session=session, test_id=test.id, now=now)
        return {
            "test_id": test.id,
            "status": test.status.value,
            "winner": letter,
            "decision": test.decision,
            "messages_written": written,
        }


def cmd_campaign_start(args: argparse.Namespace) -> dict[str, Any]:
    """Start a campaign as the page's "Start now" does: its due sends are written at once and
    its actions prepared (here in the foreground); the app's workers send them."""
    from core import campaigns
    from core.campaigns import actions
    from core.messaging import outbox

    migration_runner.ensure_current()
    now = utc_now()
    with session_scope() as session:
        campaign = campaigns.start_now(session=session, actor=SYSTEM, campaign_id=args.id, now=now)
        written = outbox.queue_due_steps(session=session, now=now)
        status = campaign.status
    with session_scope() as session:
        run = actions.generate_actions(session=session, actor=SYSTEM, campaign_id=args.id, now=now)
    return {
        "id": args.id,
        "status": status,
        "messages_written": sum(q.messages for q in written),
        "actions": run.created,
    }


def cmd_actions(args: argparse.Namespace) -> dict[str, Any] | str:
    from core.campaigns import actions

    migration_runner.ensure_current()
    with session_scope() as session:
        run = actions.generate_actions(
            session=session,
            actor=SYSTEM,
            campaign_id=args.campaign,
            limit=args.limit,
            now=utc_now(),
        )
    with session_scope(read_only=True) as session:
        rows = actions.list_actions(
            session=session, filters=actions.ActionFilter(run_id=run.run_id), limit=args.limit
        )
        listed: list[dict[str, Any]] = [
            {
                "customer_id": c.id,
                "name": c.full_name,
                "priority": a.priority,
                "channel": a.channel,
                "offer": a.offer_description,
                "due_at": a.due_at,
                "why": a.reasons,
            }
            for a, c in rows
        ]
    summary = {"run_id": run.run_id, "actions": run.created, "candidates": run.candidates}
    if args.json:
        return summary | {"list": listed}
    lines = [f"{run.created} actions from {run.candidates:,} reachable customers."]
    lines += [
        f"{row['priority']:6.1f}  {row['name']:<28} {row['channel']:<5} {row['offer']:<32} "
        f"{'; '.join(row['why'])}"
        for row in listed
    ]
    return "\n".join(lines)


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

    demo = commands.add_parser("demo", help="load the scored demo store with a few segments (once)")
    demo.add_argument("--customers", type=int, default=get_settings().demo_customers)
    # No default here: core.demo (and the statistics it imports) loads only when it runs.
    demo.add_argument("--seed", type=int, help="another demo store (default: the usual one)")
    demo.set_defaults(run=cmd_demo)

    load = commands.add_parser(
        "import",
        help="import customers or orders from a CSV or Excel file",
        description="Prints a JSON summary; rows that failed are listed in a CSV next to the file.",
    )
    load.add_argument("kind", choices=["customers", "orders"])
    load.add_argument("path")
    load.add_argument(
        "--mapping", help='JSON of field to column, e.g. \'{"email": "E-mail"}\' (default: guess)'
    )
    load.add_argument(
        "--create-customers",
        action="store_true",
        help="orders: create a minimal customer for an unknown customer ID/email/phone",
    )
    load.add_argument(
        "--birth-dates-verified",
        action="store_true",
        help="customers: birth dates in this file were checked against ID at the till",
    )
    load.set_defaults(run=cmd_import)

    score = commands.add_parser(
        "score",
        help="score customers (RFM, churn risk, predicted value), refresh segments",
        description="Only orders on or before --as-of count; the horizon starts the day after.",
    )
    score.add_argument(
        "--as-of", help="last day of history to use (default: the day of the latest order)"
    )
    score.add_argument("--horizon-days", type=int, default=365, help="days of value to predict")
    score.set_defaults(run=cmd_score)

    plan = commands.add_parser(
        "plan", help="plan a week of campaign sends (AI when configured, else the built-in planner)"
    )
    plan.add_argument("--days", type=int, default=7)
    plan.add_argument("--segment", type=int, action="append", help="segment id (repeatable)")
    plan.add_argument("--goal", default="")
    plan.add_argument("--channel", nargs="+", default=["email", "sms"], choices=["email", "sms"])
    plan.add_argument("--budget", type=float, help="dollars for sending costs")
    plan.add_argument("--no-ai", action="store_true", help="use the built-in planner")
    plan.add_argument("--json", action="store_true", help="print JSON instead of text")
    plan.set_defaults(run=cmd_plan)

    listing = commands.add_parser(
        "campaigns", help="every campaign with its figures (targeted, sent, delivered, …)"
    )
    listing.add_argument("--json", action="store_true", help="JSON (the only output)")
    listing.set_defaults(run=cmd_campaigns)

    credit = commands.add_parser(
        "attribution", help="show, or change, how orders are credited to campaigns"
    )
    credit.add_argument("--click-days", type=int, help="window after a click")
    credit.add_argument("--view-days", type=int, help="window after an open or a delivered text")
    credit.add_argument("--model", choices=["last_touch", "first_touch", "linear"])
    credit.add_argument("--json", action="store_true", help="JSON (the only output)")
    credit.set_defaults(run=cmd_attribution)

    reporting = commands.add_parser(
        "report", help="a period's key figures, charts and campaigns as PDF or CSV"
    )
    reporting.add_argument("--from", dest="since", help="first day, e.g. 2026-11-01")
    reporting.add_argument("--to", help="last day (default: today in the store's time zone)")
    reporting.add_argument("--format", choices=["pdf", "csv"], help="default: from --out")
    reporting.add_argument("--bucket", choices=["day", "week", "month"])
    reporting.add_argument("--out", required=True)
    reporting.add_argument("--json", action="store_true", help="JSON (the only output)")
    reporting.set_defaults(run=cmd_report)

    week = commands.add_parser(
        "weekly-report", help="who gets the weekly report by email; send last week's now"
    )
    week.add_argument("--to", nargs="*", metavar="EMAIL", help="the recipients (none: nobody)")
    week.add_argument("--send", action="store_true", help="email last week's report now")
    week.add_argument("--json", action="store_true", help="JSON (the only output)")
    week.set_defaults(run=cmd_weekly_report)

    abtest = commands.add_parser(
        "abtest-stats", help="compare two variants' conversions: difference, interval, p, P(B>A)"
    )
    abtest.add_argument("--a-n", type=int, required=True, help="recipients of A")
    abtest.add_argument("--a-conv", type=int, required=True, help="conversions of A")
    abtest.add_argument("--b-n", type=int, required=True)
    abtest.add_argument("--b-conv", type=int, required=True)
    abtest.add_argument("--confidence", type=float, default=0.95)
    abtest.add_argument(
        "--min-sample", type=int, help="per variant before a verdict (fixed horizon)"
    )
    abtest.add_argument("--metric", default="conversion rate", help="its name in the verdict")
    abtest.add_argument("--json", action="store_true", help="JSON (the only output)")
    abtest.set_defaults(run=cmd_abtest_stats)

    tests = commands.add_parser("abtests", help="a campaign's A/B tests, results and verdicts")
    tests.add_argument("--campaign", type=int, required=True)
    tests.add_argument("--json", action="store_true", help="JSON (the only output)")
    tests.set_defaults(run=cmd_abtests)
    choose = commands.add_parser(
        "abtest-choose", help="choose an A/B test's winner (sent to the share kept for it)"
    )
    choose.add_argument("--test", type=int, required=True)
    choose.add_argument("--variant", required=True, help="A, B, C …")
    choose.add_argument("--json", action="store_true", help="JSON (the only output)")
    choose.set_defaults(run=cmd_abtest_choose)

    campaign = commands.add_parser("campaign", help="act on one campaign")
    verbs = campaign.add_subparsers(dest="verb", required=True)
    start = verbs.add_parser("start", help="start it now, as the page's Start now does")
    start.add_argument("id", type=int)
    start.set_defaults(run=cmd_campaign_start)

    actions = commands.add_parser("actions", help="rank a campaign's customers into actions")
    actions.add_argument("--campaign", type=int, required=True)
    actions.add_argument("--limit", type=int, default=300)
    actions.add_argument("--json", action="store_true", help="print JSON instead of text")
    actions.set_defaults(run=cmd_actions)

    export = commands.add_parser(
        "export", help="export customers, or messages and their offer codes, to safe CSV"
    )
    export.add_argument("what", choices=["customers", "messages"])
    export.add_argument("--out", required=True)
    export.add_argument("--segment", type=int, help="customers: only this segment's members")
    export.add_argument("--campaign", type=int, help="messages: only this campaign's")
    export.add_argument("--bom", action="store_true", help="start with a UTF-8 BOM for Excel")
    export.set_defaults(run=cmd_export)

    check = commands.add_parser(
        "preflight", help="a campaign's pre-flight: eligible, and excluded by compliance rule"
    )
    check.add_argument("--campaign", type=int, required=True)
    check.add_argument("--json", action="store_true", help="JSON (the only output)")
    check.set_defaults(run=cmd_preflight)

    consents = commands.add_parser(
        "consent-report", help="every consent decision with its proof, as CSV, for an audit"
    )
    consents.add_argument("--out", required=True)
    consents.add_argument("--search", help="only addresses containing this, or #customer")
    consents.add_argument("--json", action="store_true", help="JSON summary (the only output)")
    consents.set_defaults(run=cmd_consent_report)

    suppressed = commands.add_parser("suppressions", help="the suppression list: export or import")
    list_verbs = suppressed.add_subparsers(dest="verb", required=True)
    dump = list_verbs.add_parser("export", help="the whole list as CSV")
    dump.add_argument("--out", required=True)
    dump.add_argument("--json", action="store_true", help="JSON summary (the only output)")
    load_list = list_verbs.add_parser(
        "import", help="suppress every email address or phone number of a file (first column)"
    )
    load_list.add_argument("file")
    load_list.add_argument("--json", action="store_true", help="JSON summary (the only output)")
    for verb in (dump, load_list):
        verb.set_defaults(run=cmd_suppressions)

    privacy = commands.add_parser("privacy", help="a customer's privacy request")
    requests = privacy.add_subparsers(dest="verb", required=True)
    give = requests.add_parser(
        "export", help="everything about a customer (JSON, or CSVs in a .zip), audited"
    )
    give.add_argument("--customer", type=int, required=True)
    give.add_argument("--out", required=True, help="a .json or .zip file")
    give.add_argument("--json", action="store_true", help="JSON summary (the only output)")
    give.set_defaults(run=cmd_privacy_export)
    erase = requests.add_parser(
        "erase", help="erase a customer's personal data; orders stay anonymous (cannot be undone)"
    )
    erase.add_argument("--customer", type=int, required=True)
    erase.add_argument(
        "--requested-on",
        type=date.fromisoformat,
        help="when the person asked (YYYY-MM-DD), for the audit",
    )
    erase.add_argument("--json", action="store_true", help="JSON summary (the only output)")
    erase.set_defaults(run=cmd_privacy_erase)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "name", None) == "" and getattr(args, "email", None):
        args.name = args.email.split("@")[0]
    configure_logging(get_settings().log_level)
    run: Callable[[argparse.Namespace], dict[str, Any] | list[dict[str, Any]] | str] = args.run
    try:
        result = run(args)
    except (CommandError, DomainError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(result if isinstance(result, str) else json.dumps(result, default=str))
    return 0
