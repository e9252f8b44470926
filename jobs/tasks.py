"""Task functions: thin wrappers that open a session and call core. Registered by kind, the name
stored on the job row, so a job can be found, watched and re-run from the database alone."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from core import abtests, analytics, campaigns, demo, imports, maintenance, scoring
from core.analytics import refresh, weekly
from core.campaigns import actions
from core.config import get_settings
from core.db import session_scope, utc_now
from core.errors import DomainError
from core.infra import job_rows
from core.infra.job_rows import Progress
from core.messaging import outbox
from core.permissions import Actor
from jobs import sending


@dataclass(frozen=True)
class Task:
    """A job function and the kind its job rows carry."""

    kind: str
    label: str
    """What the Background jobs page calls it."""
    run: Callable[..., dict[str, Any]]
    takes_job_id: bool = False
    """The runner passes the job's id (a task that can be cancelled checks its row)."""

    def __call__(self, *, actor: Actor, progress: Progress, **args: Any) -> dict[str, Any]:
        return self.run(actor=actor, progress=progress, **args)


TASKS: dict[str, Task] = {}


def task(
    kind: str, label: str, *, takes_job_id: bool = False
) -> Callable[[Callable[..., dict[str, Any]]], Task]:
    def register(run: Callable[..., dict[str, Any]]) -> Task:
        TASKS[kind] = Task(kind, label, run, takes_job_id)
        return TASKS[kind]

    return register


@task("campaign.plan", "Planning a campaign", takes_job_id=True)
def plan_campaign(
    *, actor: Actor, progress: Progress, job_id: str, campaign_id: int, use_ai: bool
) -> dict[str, Any]:
    """Plan a draft (the AI may take a while); the plan is kept unless the job was cancelled
    meanwhile."""
    progress(10, "Asking the AI planner…" if use_ai else "Planning…")
    now = utc_now()
    outcome = campaigns.propose_plan(
        unit_of_work=session_scope, actor=actor, campaign_id=campaign_id, use_ai=use_ai, now=now
    )
    progress(90, "Saving the plan")
    with session_scope() as session:
        if job_rows.is_cancelled(session=session, job_id=job_id):
            return {"cancelled": True}
        campaigns.save_plan(
            session=session, actor=actor, campaign_id=campaign_id, outcome=outcome, now=now
        )
    return {"source": outcome.source.value, "note": outcome.note, "sends": len(outcome.plan.sends)}


@task("demo.load", "Loading the demo store")
def load_demo(
    *,
    actor: Actor,
    progress: Progress,
    customers: int | None = None,
    seed: int = demo.DEFAULT_SEED,
) -> dict[str, Any]:
    return demo.load_demo_store(
        unit_of_work=session_scope,
        actor=actor,
        now=utc_now(),
        customers=customers or get_settings().demo_customers,
        seed=seed,
        progress=progress,
    )


@task("import.run", "Importing a file")
def run_import(*, actor: Actor, progress: Progress, import_id: str) -> dict[str, Any]:
    """Load the file, then rescore, so new customers and orders show in scores and segments."""
    summary = imports.run_import(
        unit_of_work=session_scope,
        actor=actor,
        import_id=import_id,
        now=utc_now(),
        progress=progress,
    )
    result = summary.as_dict()
    if summary.inserted or summary.updated:
        try:
            result["scoring"] = score(actor=actor, progress=lambda _pct, _msg="": None)
        except DomainError as exc:  # e.g. customers without orders yet: nothing to score
            result["scoring"] = {"skipped": str(exc)}
            result["segments"] = maintenance.refresh_segments(
                unit_of_work=session_scope, now=utc_now()
            )
    return result


@task("scoring.run", "Scoring customers")
def score(
    *,
    actor: Actor,
    progress: Progress,
    as_of: str | None = None,
    horizon_days: int = scoring.HORIZON_DAYS,
) -> dict[str, Any]:
    return maintenance.rescore(
        unit_of_work=session_scope,
        actor=actor,
        now=utc_now(),
        as_of=date.fromisoformat(as_of) if as_of else None,
        horizon_days=horizon_days,
        progress=progress,
    )


@task("nightly.refresh", "Nightly rescoring")
def nightly(*, actor: Actor, progress: Progress) -> dict[str, Any]:
    """Rescore everyone up to the latest order and refresh segments ("last 30 days" moves on);
    delete uploads kept past their retention."""
    scored = score(actor=actor, progress=progress)
    with session_scope() as session:
        purged = imports.purge_uploads(session=session, now=utc_now())
    return {"scoring": scored, "uploads_deleted": purged}


@task("reports.weekly", "Emailing the weekly report")
def weekly_report(*, actor: Actor, progress: Progress, first: str, last: str) -> dict[str, Any]:
    """Email the week's report (`first`..`last`, store days) to the chosen managers."""
    progress(10, "Measuring the week")
    period = analytics.Period(date.fromisoformat(first), date.fromisoformat(last))
    with session_scope() as session:
        return weekly.send_weekly_report(
            session=session, period=period, now=utc_now(), settings=get_settings()
        )


@task("analytics.refresh", "Keeping the dashboard ready")
def refresh_dashboard(*, actor: Actor, progress: Progress) -> dict[str, Any]:
    """Bring the kept campaign results and dashboard figures up to the data (after imports
    and sends)."""
    progress(10, "Measuring campaigns and the store")
    with session_scope() as session:
        return refresh.refresh_dashboard(session=session, now=utc_now())


@task("abtests.decide", "Deciding A/B tests")
def decide_tests(*, actor: Actor, progress: Progress) -> dict[str, Any]:
    """Judge the tests whose planned sample and wait are over, then write the winner's messages
    for the audience each decided test kept for it (once: see `outbox.queue_rollout`)."""
    progress(10, "Judging A/B tests")
    now = utc_now()
    with session_scope(read_only=True) as session:
        ready = abtests.waiting_for_judgement(session=session, now=now)
    decided = {}
    for test_id in ready:
        with session_scope() as session:
            decided[test_id] = abtests.judge(session=session, test_id=test_id, now=now).status
    progress(60, "Sending winners to the rest of their audience")
    with session_scope(read_only=True) as session:
        waiting = abtests.waiting_rollouts(session=session)
    rolled_out = {}
    for test_id in waiting:
        with session_scope() as session:
            rolled_out[test_id] = outbox.queue_rollout(session=session, test_id=test_id, now=now)
    return {"judged": decided, "rolled_out": rolled_out}


@task("actions.generate", "Preparing actions")
def generate_actions(
    *, actor: Actor, progress: Progress, campaign_id: int, limit: int = actions.DEFAULT_LIMIT
) -> dict[str, Any]:
    """Rank the campaign's customers into its next run of prioritized actions."""
    progress(10, "Ranking customers")
    with session_scope() as session:
        run = actions.generate_actions(
            session=session, actor=actor, campaign_id=campaign_id, limit=limit, now=utc_now()
        )
    return {"run_id": run.run_id, "actions": run.created, "candidates": run.candidates}


@task("messages.send", "Sending messages")
def send_messages(*, actor: Actor, progress: Progress, max_seconds: float = 50.0) -> dict[str, Any]:
    """Send every due message (both channels) for up to `max_seconds`; the clock starts another
    run next minute if some are left."""
    progress(5, "Sending")
    return sending.send_due(max_seconds=max_seconds).__dict__
