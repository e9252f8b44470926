"""Runs every Python process that has this folder on PYTHONPATH a number of days ahead.

CI's shifted-clock run (`.ci/run`) sets `PYTHONPATH=tests/shifted_clock` and
`TEST_CLOCK_SHIFT_DAYS=400`, so pytest, its xdist workers and whatever they start (the command
line, RQ workers, a Streamlit server) all read the same shifted wall clock, from the moment the
interpreter starts. time-machine patches Python's own clock functions; it leaves the operating
system's clock, and with it thread scheduling and lock timeouts, alone (libfaketime, which CI used
before, intercepts those too: the suite ran twice as slow under it and once hung).
"""

import os
from datetime import timedelta

_days = os.environ.get("TEST_CLOCK_SHIFT_DAYS")
if _days:
    import time_machine

    time_machine.travel(timedelta(days=int(_days)), tick=True).start()
