"""Named fault points, for the fault-injection tests.

``DJRESET_FAULT=after:3`` makes the process kill itself (SIGKILL) when the
third step of the recipe has finished; ``DJRESET_FAULT=term:after:3`` sends
SIGTERM instead (the graceful path: djreset rolls back); ``pause:after:3``
touches the file ``DJRESET_FAULT_MARK`` names and sleeps
``DJRESET_FAULT_SECONDS`` (default 5): another process can race it there.
Points: ``before:N`` and ``after:N`` around step N, ``inside:STEP`` in the
middle of the destructive part of clean-files, fake-zero, drop-db,
record-new and rewrite-history, ``inside:verify`` while verify's scratch
database exists, and ``inside:put-back`` when a restore or rollback has put
the databases back but not yet the history and files.
Unset, a point costs one dictionary lookup.
"""
from __future__ import annotations

import os
import signal
import time
from pathlib import Path

VARIABLE = "DJRESET_FAULT"


def point(name: str) -> None:
    wanted = os.environ.get(VARIABLE)
    if not wanted:
        return
    if wanted == name:
        os.kill(os.getpid(), signal.SIGKILL)
    elif wanted == f"term:{name}":
        os.kill(os.getpid(), signal.SIGTERM)
    elif wanted == f"pause:{name}":
        if os.environ.get("DJRESET_FAULT_MARK"):
            Path(os.environ["DJRESET_FAULT_MARK"]).touch()
        time.sleep(float(os.environ.get("DJRESET_FAULT_SECONDS", "5")))
