"""A job worker in a process of its own, for the tests that need real processes (two workers
sharing a queue, a worker killed while it holds a job, a worker told to stop).

Configured like a deployment, through PORTAL_* variables; ``RECORD_FILE`` names the file the
``tests.record`` jobs append "<pid> <n>" lines to, ``RECORD_SLEEP`` how long each takes;
with ``START_FILE`` the worker starts only once that file exists (so that several start
together).
"""

import os
import sys
import time

from portal import create_app
from portal.jobs import register
from portal.jobs.services import work

STARTED = "started"


def record(payload: dict) -> None:
    with open(os.environ["RECORD_FILE"], "a") as fh:
        fh.write(f"{os.getpid()} {payload['n']}\n")
    time.sleep(float(os.environ.get("RECORD_SLEEP", "0")))


def main() -> None:
    register("tests.record", record)
    app = create_app()
    burst = "--burst" in sys.argv
    start = os.environ.get("START_FILE")
    if start:
        with open(f"{start}.ready.{os.getpid()}", "w") as fh:
            fh.write("ready")
    while start and not os.path.exists(start):
        time.sleep(0.01)
    with app.app_context():
        work(burst=burst, schedule=False, handle_signals=True,
             log=lambda line: print(line, flush=True))


if __name__ == "__main__":
    main()
