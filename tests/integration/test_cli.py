"""`python -m core`: each command works, prints JSON, and fails clearly on bad input."""

import csv
import io
import json
import subprocess
import sys
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import func, select

from core import customers, demo, segments
from core.auth.users import password_matches
from core.campaigns import planner
from core.cli import main
from core.db import session_scope, utc_now
from core.infra import migration_runner
from core.models import Customer, User
from core.permissions import SYSTEM
from core.segments import playbooks
from tests.moments import NOW

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


@pytest.mark.both_databases
def test_migrate_and_downgrade(database: str, capsys: pytest.CaptureFixture[str]) -> None:
    head = migration_runner.head_revision()
    assert run(capsys, "migrate") == (0, {"revision": head})
    code, result = run(capsys, "downgrade", "--revision", "base")
    assert (code, result) == (0, {"revision": None})
    assert run(capsys, "migrate") == (0, {"revision": head})


@pytest.mark.both_databases
def test_create_user_reads_the_password_from_stdin(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, result = run(
        capsys,
        "create-user",
        "--email",
        "Boss@Example.com",
        "--role",
        "admin",
        "--password-stdin",
        stdin="a long enough password\n",
    )
    assert code == 0 and result["email"] == "boss@example.com" and result["role"] == "admin"
    with session_scope() as session:
        user = session.scalars(select(User)).one()
        assert user.name == "Boss" and password_matches(
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
    # Loaded scored, with the demo's playbook segments in place.
    assert first["scoring"]["customers_scored"] > 0
    with session_scope() as session:
        assert playbooks.used(session=session) == set(demo.DEMO_PLAYBOOKS)
    code, second = run(capsys, "demo", "--customers", "50", "--seed", "1")
    assert code == 0 and not second["created"]
    with session_scope() as session:
        assert session.scalar(select(func.count(Customer.id))) == 50
    code, error = run(capsys, "demo", "--customers", "0")
    assert code == 2 and "at least 1" in error


@pytest.mark.slow
def test_import_and_export(database: str, capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    customers_csv = tmp_path / "customers.csv"
    customers_csv.write_text(
        "Customer #,Name,E-mail,Cell\n"
        'P1,=HYPERLINK("http://x"),p1@example.com,3125550100\n'
        "P2,Bo Bo,not-an-email,\n"
    )
    code, result = run(capsys, "import", "customers", str(customers_csv))
    assert code == 0 and (result["inserted"], result["failed"]) == (1, 1)
    report = result["errors_csv"]
    assert report.endswith("customers.errors.csv")
    assert "3,Bo Bo,error,Email,not-an-email,not a valid email address" in Path(report).read_text()

    orders_csv = tmp_path / "orders.csv"
    orders_csv.write_text(
        "Order #,Customer #,Date,Total\nT1,P1,2026-11-01,19.99\nT2,P9,2026-11-01,5\n"
    )
    code, result = run(capsys, "import", "orders", str(orders_csv), "--create-customers")
    assert code == 0 and result["inserted"] == 2 and result["errors_csv"] is None

    out = tmp_path / "out.csv"
    code, result = run(capsys, "export", "customers", "--out", str(out), "--bom")
    assert code == 0 and result["rows"] == 2
    text = out.read_text(encoding="utf-8")
    assert text.startswith("\ufefflastcall_id,external_id,first_name")
    assert "'=HYPERLINK" in text, "formula cells are defused"

    mapping = '{"external_id": "Customer #", "email": "E-mail"}'
    code, result = run(capsys, "import", "customers", str(customers_csv), "--mapping", mapping)
    assert code == 0 and result["updated"] == 1
    assert result["mapping"] == {"external_id": "Customer #", "email": "E-mail"}
    assert result["unused_columns"] == ["Name", "Cell"], "said, not silently dropped"


@pytest.mark.slow
def test_export_ages_count_by_the_stores_day(
    database: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """At 9 p.m. in Chicago (the store's zone) it is already tomorrow in UTC: a customer whose
    21st birthday is tomorrow is still 20 in the export."""
    customers_csv = tmp_path / "customers.csv"
    customers_csv.write_text("Customer #,E-mail,DOB\nP1,p1@example.com,2005-12-02\n")
    out = tmp_path / "out.csv"
    with time_machine.travel(datetime(2026, 12, 2, 3, 0, tzinfo=UTC), tick=False):
        assert run(capsys, "import", "customers", str(customers_csv))[0] == 0
        code, _ = run(capsys, "export", "customers", "--out", str(out))
    assert code == 0
    with out.open(newline="", encoding="utf-8") as handle:
        assert [row["age"] for row in csv.DictReader(handle)] == ["20"]


@pytest.mark.both_databases
def test_privacy_export_and_erase(
    database: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with session_scope() as session:
        ana = customers.create_customer(
            session=session,
            actor=SYSTEM,
            now=NOW,
            first_name="Ana",
            email="ana@example.com",
            phone="+13125550101",
        ).id
    out = tmp_path / "ana.json"
    code, result = run(capsys, "privacy", "export", "--customer", str(ana), "--out", str(out))
    assert code == 0 and result["out"] == str(out) and result["consents"] == 0
    assert json.loads(out.read_text())["profile"]["first_name"] == "Ana"
    code, result = run(
        capsys, "privacy", "export", "--customer", str(ana), "--out", str(tmp_path / "ana.zip")
    )
    assert code == 0 and zipfile.is_zipfile(tmp_path / "ana.zip")

    code, result = run(
        capsys, "privacy", "erase", "--customer", str(ana), "--requested-on", "2026-11-20"
    )
    assert (code, result) == (0, {"customer_id": ana, "orders_kept": 0, "addresses_suppressed": 2})
    code, error = run(capsys, "privacy", "erase", "--customer", str(ana))
    assert code == 2 and "already erased" in error
    with session_scope() as session:
        assert session.get_one(Customer, ana).email is None


@pytest.mark.both_databases
def test_consent_report_and_suppression_list(
    database: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    listed = tmp_path / "list.csv"
    listed.write_text("email\nzed@example.com\nnope\n")
    code, result = run(capsys, "suppressions", "import", str(listed), "--json")
    assert (code, result["added"], result["already"]) == (0, 1, 0)
    assert result["problems"] == ["line 3: 'nope' is neither an email address nor a phone number"]
    out = tmp_path / "out.csv"
    code, result = run(capsys, "suppressions", "export", "--out", str(out))
    assert (code, result["rows"]) == (0, 1) and "zed@example.com,manual" in out.read_text()
    code, result = run(capsys, "consent-report", "--out", str(out), "--json")
    assert (code, result["rows"]) == (0, 0)
    assert out.read_text().startswith("recorded_at,customer_id,channel,decision")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["import", "customers", "/no/such/file.csv"], "no such file"),
        (["import", "customers", "{binary}"], "not a text file"),
        (["import", "customers", "{empty}"], "empty"),
        (["import", "customers", "{empty}", "--mapping", "[nope"], "not valid JSON"),
        (["export", "customers", "--out", "/no/such/dir/x.csv"], "cannot write"),
        (["export", "customers", "--out", "{out}", "--segment", "42"], "no segment #42"),
        (["privacy", "export", "--customer", "42", "--out", "{out}"], "no customer #42"),
        (["privacy", "erase", "--customer", "42"], "no customer #42"),
        (["suppressions", "import", "/no/such/file.csv"], "cannot read"),
        (["consent-report", "--out", "/no/such/dir/x.csv"], "cannot write"),
    ],
)
def test_unusable_input_exits_non_zero(
    database: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path,
    argv: list[str],
    message: str,
) -> None:
    (tmp_path / "binary.csv").write_bytes(b"\x00\x01\x02\x03")
    (tmp_path / "empty.csv").write_bytes(b"")
    paths = {
        "binary": tmp_path / "binary.csv",
        "empty": tmp_path / "empty.csv",
        "out": tmp_path / "out.csv",
    }
    argv = [arg.format(**{k: str(v) for k, v in paths.items()}) for arg in argv]
    code, error = run(capsys, *argv)
    assert code == 2 and message in error


def test_score_command(database: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, result = run(capsys, "demo", "--customers", "150", "--seed", "2")
    assert code == 0
    # The CLI reads the clock: the demo's year of history ends today, so score 90 days back.
    as_of = (utc_now() - timedelta(days=90)).date().isoformat()
    code, result = run(capsys, "score", "--as-of", as_of, "--horizon-days", "90")
    assert code == 0 and result["as_of"] == as_of and result["horizon_days"] == 90
    assert result["customers_scored"] > 0 and result["model"]
    assert len(result["segments"]) == len(demo.DEMO_PLAYBOOKS)
    code, error = run(capsys, "score", "--as-of", "yesterday")
    assert code == 2 and "must be a date" in error


@pytest.mark.slow
def test_plan_and_actions_commands(database: str, capsys: pytest.CaptureFixture[str]) -> None:
    from core import campaigns
    from core.campaigns import Details
    from core.db import utc_now

    run(capsys, "demo", "--customers", "200", "--seed", "3")
    code, planned = run(capsys, "plan", "--days", "7", "--json")
    assert code == 0 and planned["source"] == "heuristic"
    assert planned["note"] == "Planned by the built-in planner: no AI key is configured."
    assert 1 <= len(planned["plan"]["sends"]) <= 21
    code, _ = run(capsys, "plan", "--days", "40")
    assert code == 2

    capsys.readouterr()
    assert main(["plan", "--days", "3", "--channel", "email"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("Planned by the built-in planner") and " email " in text

    with session_scope() as session:
        segment_ids = [s.id for s in segments.list_segments(session=session)]
        campaign = campaigns.create_campaign(
            session=session,
            actor=SYSTEM,
            details=Details(
                name="CLI",
                starts_at=utc_now(),
                ends_at=utc_now() + timedelta(days=6),
                segment_ids=tuple(segment_ids),
            ),
        )
        context = campaigns.plan_context(session=session, campaign=campaign, now=NOW)
        outcome = planner.make_plan(unit_of_work=session_scope, context=context)
        campaigns.save_plan(
            session=session, actor=SYSTEM, campaign_id=campaign.id, outcome=outcome, now=NOW
        )
        campaign_id = campaign.id
    code, ranked = run(capsys, "actions", "--campaign", str(campaign_id), "--limit", "25", "--json")
    assert code == 0 and ranked["actions"] == len(ranked["list"]) == 25
    priorities = [row["priority"] for row in ranked["list"]]
    assert priorities == sorted(priorities, reverse=True)
    code, error = run(capsys, "actions", "--campaign", "999")
    assert code == 2 and "no campaign #999" in error

    code, report = run(capsys, "preflight", "--campaign", str(campaign_id), "--json")
    assert code == 0 and report["campaign_id"] == campaign_id
    excluded = sum(report["excluded"].values())
    assert report["members"] == report["eligible"] + excluded + report["left_out"]
    assert report["summary"].startswith(f"{report['eligible']:,} eligible")
    code, error = run(capsys, "preflight", "--campaign", "999")
    assert code == 2 and "no campaign #999" in error
