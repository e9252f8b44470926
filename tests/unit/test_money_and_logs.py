import io
import json
import logging
import sys

import pytest

from core.infra.logs import JsonFormatter, _StderrHandler, bound, job_id, request_id
from core.infra.money import format_cents, format_dollars


def test_format_cents() -> None:
    assert format_cents(123456) == "$1,234.56"
    assert format_cents(123456, whole=True) == "$1,235"
    assert format_cents(-5) == "-$0.05"
    assert format_cents(0) == "$0.00"


def test_measured_amounts_are_whole_dollars_unless_cents_are_all_there_is() -> None:
    assert format_dollars(123456.4) == "$1,235"
    assert format_dollars(1000) == "$10"
    assert format_dollars(999) == "$9.99"
    assert format_dollars(9.4) == "$0.09"
    assert format_dollars(-450) == "-$4.50"
    assert format_dollars(0.3) == "$0"


def _record(message: str, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("core.test", logging.INFO, __file__, 1, message, None, None)
    record.__dict__.update(extra)
    return record


def test_json_lines_carry_ids_and_extra_fields() -> None:
    formatter = JsonFormatter()
    with bound(request_id, "req-1"), bound(job_id, "job-9"):
        line = formatter.format(_record("imported", rows=10))
    entry = json.loads(line)
    assert entry["msg"] == "imported"
    assert entry["level"] == "info"
    assert entry["request_id"] == "req-1"
    assert entry["job_id"] == "job-9"
    assert entry["rows"] == 10
    outside = json.loads(formatter.format(_record("later")))
    assert "request_id" not in outside and "job_id" not in outside


def test_exceptions_are_kept_in_one_line() -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        import sys

        record = logging.LogRecord(
            "core", logging.ERROR, __file__, 1, "failed", None, sys.exc_info()
        )
    line = JsonFormatter().format(record)
    assert "\n" not in line
    assert "RuntimeError: boom" in json.loads(line)["exc"]


def test_lines_go_to_the_stderr_of_the_moment_not_the_one_logging_was_set_up_with(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A job thread may log after the stream it started beside was closed (a test's capture)."""
    first, later = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stderr", first)
    handler = _StderrHandler()
    handler.setFormatter(JsonFormatter())
    first.close()
    monkeypatch.setattr(sys, "stderr", later)
    handler.handle(logging.makeLogRecord({"name": "jobs", "msg": "job failed", "levelno": 40}))
    assert json.loads(later.getvalue())["msg"] == "job failed"
