"""Start the real app (`streamlit run app.py`) on a free port for HTTP and browser tests."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    return free_ports(1)[0]


def free_ports(n: int) -> list[int]:
    """`n` different local ports free now (held open together, so no two are the same)."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(n)]
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]


def log_of(base: str) -> str:
    """What the app served at `base` by `running_app` has logged so far."""
    port = base.rsplit(":", 1)[1]
    return (Path(tempfile.gettempdir()) / f"lastcall-app-{port}.log").read_text()


@contextmanager
def running_app(
    env: dict[str, str], timeout: float = 60, options: tuple[str, ...] = ()
) -> Iterator[str]:
    """Yield the base URL once the server answers; stop it afterwards. Logs go to the assertion.
    `options` are more `streamlit run` flags (`--server.fileWatcherType`, `auto`)."""
    port = free_port()
    log_path = Path(tempfile.gettempdir()) / f"lastcall-app-{port}.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                "app.py",
                "--server.port",
                str(port),
                "--server.headless",
                "true",
                "--server.address",
                "127.0.0.1",
                *options,
            ],
            cwd=ROOT,
            env=os.environ | env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if "status" in requests.get(f"{base}/healthz", timeout=2).text:
                    break
            except requests.RequestException:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the app did not start:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.2)
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
