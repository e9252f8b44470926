"""Task functions: thin wrappers that open a session and call core. Registered by kind, the name
stored on the job row, so a job can be found, watched and re-run from the database alone."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from core import demo, imports
from core.db import session_scope
from core.permissions import Actor


class Progress(Protocol):
    def __call__(self, percent: int, message: str = "") -> None: ...


Task = Callable[..., dict[str, Any]]
TASKS: dict[str, Task] = {}


def task(kind: str) -> Callable[[Task], Task]:
    def register(fn: Task) -> Task:
        TASKS[kind] = fn
        fn.kind = kind  # type: ignore[attr-defined]
        return fn

    return register


@task("demo.load")
def load_demo(
    *,
    actor: Actor,
    progress: Progress,
    customers: int = demo.DEFAULT_CUSTOMERS,
    seed: int = demo.DEFAULT_SEED,
) -> dict[str, Any]:
    summary = demo.load_demo(
        unit_of_work=session_scope, actor=actor, customers=customers, seed=seed, progress=progress
    )
    return summary.as_dict()


@task("import.run")
def run_import(*, actor: Actor, progress: Progress, import_id: str) -> dict[str, Any]:
    summary = imports.run_import(
        unit_of_work=session_scope, actor=actor, import_id=import_id, progress=progress
    )
    return summary.as_dict()
