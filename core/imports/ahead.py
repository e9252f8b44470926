"""Reading and cleaning an import's batches ahead of the one being written.

While the database writes a batch, the next one is read from the file and cleaned (pandas,
pyarrow, the file reader): in a thread for a small file, in a process of its own for a big one.
A thread shares the interpreter lock with the writer, so for a big file the two would take
turns rather than work side by side; a process costs a second or two to start (a fresh
interpreter importing pandas), which only a big file repays.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import queue
import struct
import subprocess
import sys
import threading
from collections.abc import Generator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any

import pandas as pd

from core.imports.batch import ImportContext, Loader
from core.imports.files import FileShape, read_batches

PROCESS_FROM_ROWS = 200_000
"""Files of this many rows or more are cleaned in a process of their own."""
AHEAD = 2
"""Cleaned batches the process may have waiting (each holds a batch's rows twice over)."""
LENGTH = struct.Struct("<Q")


def cleaned_batches(
    path: Path,
    shape: FileShape,
    rows: int,
    loader: Loader[Any],
    context: ImportContext,
    *,
    in_process: bool,
) -> Generator[tuple[pd.DataFrame, Any], None, None]:
    """Each batch of `rows` rows of the file, with what `loader.clean` makes of it, the next
    one prepared while the caller writes this one. Close it when done with it early."""
    if in_process:
        return _from_process(path, shape, rows, loader, context)
    return _from_thread(path, shape, rows, loader, context)


def _from_thread(
    path: Path, shape: FileShape, rows: int, loader: Loader[Any], context: ImportContext
) -> Generator[tuple[pd.DataFrame, Any], None, None]:
    frames = read_batches(path, shape, rows)

    def read_and_clean() -> tuple[pd.DataFrame, Any] | None:
        frame = next(frames, None)
        return None if frame is None else (frame, loader.clean(frame, context))

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-clean") as pool:
        pending = pool.submit(read_and_clean)
        while (ready := pending.result()) is not None:
            pending = pool.submit(read_and_clean)
            yield ready


def _from_process(
    path: Path, shape: FileShape, rows: int, loader: Loader[Any], context: ImportContext
) -> Generator[tuple[pd.DataFrame, Any], None, None]:
    # A fresh interpreter, not a fork (the parent may be a web server or worker with threads of
    # its own) and not multiprocessing's spawn (which re-runs the parent's main script).
    project = str(Path(__file__).resolve().parents[2])
    paths = [project, *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    env = os.environ | {"PYTHONPATH": os.pathsep.join(paths)}
    worker = subprocess.Popen(
        [sys.executable, "-c", "from core.imports.ahead import serve; serve()"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
    )
    assert worker.stdin is not None and worker.stdout is not None  # both were asked for
    # A pipe holds 64 KB: a thread takes each batch off it as it comes, so that the worker can
    # clean the next one while this one is written instead of waiting to be read.
    received: queue.Queue[bytes | None] = queue.Queue(maxsize=AHEAD)
    taker = threading.Thread(
        target=_take_messages, args=(worker.stdout, received), name="import-take", daemon=True
    )
    try:
        pickle.dump((path, shape, rows, loader, context), worker.stdin)
        worker.stdin.close()
        taker.start()
        while (data := received.get()) is not None:
            message = pickle.loads(data)  # noqa: S301 - our own child's output
            if message is None:
                return
            if isinstance(message, BaseException):
                raise message
            yield message
        raise RuntimeError(f"the process cleaning the file stopped (exit code {worker.wait()})")
    finally:
        worker.kill()  # done, or the caller stopped early: nothing more is wanted of it
        worker.wait()
        while taker.is_alive():  # let the taker see the end of the pipe if it waits to put
            with contextlib.suppress(queue.Empty):
                received.get(timeout=0.1)
        worker.stdout.close()


def _take_messages(pipe: IO[bytes], received: queue.Queue[bytes | None]) -> None:
    """Put each length-prefixed message of the pipe on `received`, then None at its end."""
    while len(head := pipe.read(LENGTH.size)) == LENGTH.size:
        (size,) = LENGTH.unpack(head)
        data = pipe.read(size)
        if len(data) < size:
            break
        received.put(data)
    received.put(None)


def serve() -> None:
    """The cleaning process: read what to clean from stdin, send each cleaned batch to stdout,
    then None; or the error that stopped it."""
    out = sys.stdout.buffer
    sys.stdout = sys.stderr  # anything printed must not get into the messages

    def send(message: Any) -> None:
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        out.write(LENGTH.pack(len(data)))
        out.write(data)
        out.flush()

    path, shape, rows, loader, context = pickle.load(sys.stdin.buffer)  # noqa: S301 - our parent
    try:
        for frame in read_batches(path, shape, rows):
            send((frame, loader.clean(frame, context)))
        send(None)
    except Exception as exc:  # noqa: BLE001 - the parent raises it, as if it had read the file
        try:
            send(exc)
        except (pickle.PicklingError, TypeError, AttributeError):
            send(RuntimeError(f"{type(exc).__name__}: {exc}"))
