"""The journal: a reset that was cut short is never forgotten.

``.djreset/journal.json`` records each run with destructive steps: its
backup, each completed step, and how it ended.  A run killed outright leaves
it "running" with a dead pid; every later command sees that, and only
``djreset restore`` may run until everything is put back.
"""
from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from djreset import state

if TYPE_CHECKING:
    from djreset.config import Project

UNFINISHED = ("running", "rollback failed")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class Journal:
    def __init__(self, project: "Project"):
        self.path = state.journal_path(project)
        self.data: dict[str, Any] = {}

    def read(self) -> dict[str, Any] | None:
        if not self.path.is_file():
            return None
        try:
            return json.loads(self.path.read_text())
        except ValueError:  # cut off while it was written: treat as unfinished
            return {"status": "running", "pid": 0, "env": "?", "started": "?", "done": [], "backup": None}

    def _write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps(self.data, indent=2))
        os.replace(temporary, self.path)  # atomic: never half a journal

    def start(self, env: str, steps: list[str]) -> None:
        self.data = {"status": "running", "pid": os.getpid(), "env": env, "started": _now(),
                     "steps": steps, "done": [], "backup": None, "destructive_started": False}
        self._write()

    def update(self, **changes: Any) -> None:
        self.data.update(changes)
        self._write()

    def step_done(self, name: str) -> None:
        self.data["done"].append(name)
        self._write()

    def finish(self, status: str) -> None:
        self.update(status=status, finished=_now())

    def unfinished(self) -> dict[str, Any] | None:
        """The journal of a run that neither finished nor rolled back, if its process is gone."""
        data = self.read()
        if not data or data.get("status") not in UNFINISHED:
            return None
        if data.get("status") == "running" and _alive(data.get("pid", 0)):
            return None  # still running: the lock reports it
        return data


def _alive(pid: int) -> bool:
    if pid <= 0 or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def describe_unfinished(data: dict[str, Any]) -> str:
    done = ", ".join(data.get("done") or []) or "none"
    backup = data.get("backup")
    remedy = f"run `djreset restore --env {data.get('env')}` to put back backup {backup}" if backup else (
        "it stopped before its first destructive step; `djreset restore` clears this")
    return (f"a reset of environment {data.get('env')!r} started {data.get('started')} (pid {data.get('pid')}) did not finish "
            f"(status {data.get('status')}, steps done: {done}): {remedy}")
