import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from core import auth
from core.db import reset_engines
from core.infra import health
from tests.server import ROOT, free_port, log_of, running_app


@pytest.mark.both_databases
def test_check_reports_database_and_redis(
    database: str, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from redis import Redis

    healthy, report = health.check()
    assert healthy and report == {
        "status": "ok",
        "database": "ok",
        "redis": "not configured",
        "version": "0.1.0",
        "warnings": [],
    }
    monkeypatch.setenv("REDIS_URL", redis_url)
    reset_engines()
    assert health.check(lambda url: Redis.from_url(url).ping())[1]["redis"] == "ok"
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    reset_engines()
    healthy, report = health.check(lambda url: Redis.from_url(url, socket_timeout=1).ping())
    assert healthy and report["status"] == "degraded" and report["redis"] == "unavailable"


def test_check_fails_when_the_database_does_not_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://nobody:secret@127.0.0.1:1/none")
    reset_engines()
    healthy, report = health.check()
    assert not healthy and report["status"] == "down" and report["database"] == "unavailable"
    assert "secret" not in str(report)
    reset_engines()


@pytest.mark.slow
def test_the_served_app_answers_healthz_and_the_page(tmp_path: Path) -> None:
    with running_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}"}) as base:
        response = requests.get(f"{base}/healthz", timeout=5)
        assert response.status_code == 200
        assert response.json()["database"] == "ok"
        assert '<div id="root">' in requests.get(base, timeout=5).text
        # The webhooks and the unsubscribe link are served beside the dashboard (their
        # behaviour is tested in-process in test_webhooks.py).
        assert requests.post(f"{base}/webhooks/mailgun", json={}, timeout=5).status_code == 403
        inbound = requests.post(f"{base}/webhooks/twilio/inbound", data={}, timeout=5)
        assert inbound.status_code == 403
        assert 'method="post"' in requests.get(f"{base}/u/some-token", timeout=5).text
        # No administrator yet: the operator finds the setup token in the log.
        assert f"setup token, it is {auth.setup_token()}" in log_of(base)


@pytest.mark.slow
def test_the_served_app_says_503_without_its_database(tmp_path: Path) -> None:
    with running_app({"DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:1/none"}) as base:
        response = requests.get(f"{base}/healthz", timeout=10)
        assert response.status_code == 503
        assert response.json()["status"] == "down"


@pytest.mark.slow
def test_the_app_refuses_to_start_with_a_placeholder_secret_key(tmp_path: Path) -> None:
    environment = os.environ | {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}",
        "SECRET_KEY": "change-me-to-a-long-random-string",  # .env.example's line, uncommented
    }
    started = subprocess.run(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(free_port())],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert started.returncode != 0
    assert "SECRET_KEY is a placeholder, not a secret" in started.stdout + started.stderr
