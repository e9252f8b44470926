"""CPU an idle app burns: the server with a browser tab open on it and nobody clicking, its
SQLite database inside the checkout (where the default `data/` puts it), measured over a window.

The baseline is the same server run with Streamlit's file watcher on (`auto`, what a served run
did before `.streamlit/config.toml` turned it off): it polls every source file and, with the
database and a virtual environment in the tree, kept a core busy.

Usage: python bench/idle_cpu.py [--seconds 20]
Prints one JSON line: the CPU share of one core, ours and the baseline's, and their ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.server import running_app  # noqa: E402

CHROMIUM = "/usr/bin/chromium"


def server_pid(base: str) -> int:
    """The process serving `base` (found by its --server.port argument)."""
    port = base.rsplit(":", 1)[1]
    for proc in Path("/proc").iterdir():
        try:
            args = (proc / "cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError):
            continue
        if b"--server.port" in args and args[args.index(b"--server.port") + 1] == port.encode():
            return int(proc.name)
    raise RuntimeError(f"no process serves {base}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, all its threads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def idle_share(options: tuple[str, ...], seconds: float) -> float:
    """Open the app in a browser tab, let it settle, then measure the server's CPU while idle."""
    from playwright.sync_api import sync_playwright

    data = Path(tempfile.mkdtemp(prefix="bench-idle-", dir=ROOT / "data"))
    try:
        env = {"DATABASE_URL": f"sqlite:///{data / 'lastcall.db'}", "DATA_DIR": str(data)}
        with running_app(env, options=options) as base, sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
            )
            page = browser.new_page()
            page.goto(base)
            page.wait_for_selector("h1, h2", timeout=60_000)
            time.sleep(5)  # the first run's imports and caches are not idling
            pid = server_pid(base)
            before, started = cpu_seconds(pid), time.monotonic()
            time.sleep(seconds)
            share = (cpu_seconds(pid) - before) / (time.monotonic() - started)
            browser.close()
        return share
    finally:
        shutil.rmtree(data, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    (ROOT / "data").mkdir(exist_ok=True)
    ours = idle_share((), args.seconds)
    watched = idle_share(("--server.fileWatcherType", "auto"), args.seconds)
    print(
        json.dumps(
            {
                "bench": "idle_cpu",
                "seconds": args.seconds,
                "cpu_share_of_one_core": round(ours, 4),
                "baseline_file_watcher_on": round(watched, 4),
                "ratio": round(ours / watched, 3) if watched else None,
                "target": "< 0.05",
            }
        )
    )


if __name__ == "__main__":
    main()
