"""The journal: a reset that was cut short is never forgotten.

``.djreset/journal.json`` records each run that changes files or databases
(destructive or not), from its first change: its backup, the migration folders as they were, each database
change before it is made (see :class:`~djreset.actions.Change`), each
completed step, and how it ended.  A run killed outright leaves it
"running"; whether it still runs is the project lock's answer (a live run
holds it), never a pid's, which may belong to a zombie or to another program
by now.  Every later command sees an unfinished run, and only ``djreset
restore`` may change anything until everything is put back.
"""
from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from djreset import state
from djreset.actions import Change

if TYPE_CHECKING:
    from djreset.config import Project

# "failed without a backup": a run that changed things with backups off; only the
# user can repair it, and says so with `djreset restore --forget`.
UNFINISHED = ("running", "rollback failed", "failed without a backup")


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
        except ValueError:  # not written by this version: treat as unfinished
            return {"status": "running", "pid": 0, "env": "?", "started": "?", "done": [], "backup": None}

    def _write(self) -> None:
        state.write_private(self.path, json.dumps(self.data, indent=2))

    def start(self, env: str, steps: list[str], folders: dict[str, Any]) -> None:
        self.data = {"status": "running", "pid": os.getpid(), "env": env, "started": _now(),
                     "steps": steps, "done": [], "backup": None, "destructive_started": False,
                     "folders": folders, "changes": []}
        self._write()

    def update(self, **changes: Any) -> None:
        self.data.update(changes)
        self._write()

    def step_done(self, name: str) -> None:
        self.data["done"].append(name)
        self._write()

    def finish(self, status: str) -> None:
        self.update(status=status, finished=_now())

    # -- the ledger of database changes (actions.Ledger) ----------------------------

    def record(self, change: Change) -> None:
        entry = {"alias": change.alias, "event": change.event, "force": change.force}
        if self.data and entry not in self.data["changes"]:
            self.data["changes"].append(entry)
            self._write()

    def retract(self, change: Change) -> None:
        entry = {"alias": change.alias, "event": change.event, "force": change.force}
        if self.data and entry in self.data["changes"]:
            self.data["changes"].remove(entry)
            self._write()

    def unfinished(self, lock_free: bool) -> dict[str, Any] | None:
        """The journal of a run that neither finished nor rolled back.

        ``lock_free``: nobody else holds the project lock, so a run recorded
        as "running" is dead, however it died."""
        data = self.read()
        if not data or data.get("status") not in UNFINISHED:
            return None
        if data.get("status") == "running" and not lock_free:
            return None  # it is still running: the lock says so
        return data


def changed_databases(data: dict[str, Any]) -> dict[str, bool]:
    """alias → may a rollback end other sessions (only if the run's own drop did)."""
    found: dict[str, bool] = {}
    for entry in data.get("changes") or []:
        found[entry["alias"]] = found.get(entry["alias"], False) or bool(entry.get("force"))
    return found


def describe_unfinished(data: dict[str, Any]) -> str:
    done = ", ".join(data.get("done") or []) or "none"
    backup, restoring = data.get("backup"), data.get("restoring")
    if restoring:
        undo = f" (the state before it is in backup {backup})" if backup else ""
        remedy = f"run `djreset restore --env {data.get('env')}` to finish putting back backup {restoring}{undo}"
    elif backup:
        remedy = f"run `djreset restore --env {data.get('env')}` to put back backup {backup}"
    elif data.get("destructive_started"):
        remedy = (f"it changed the project and there is no backup of before it (backups are disabled in reset.yaml), so djreset "
                  f"cannot put it back: repair the migration files and databases by hand (version control, your own database backup), "
                  f"then run `djreset restore --env {data.get('env')} --forget` to say so")
    else:
        remedy = "it stopped before its first change; `djreset restore` clears this"
    return (f"a {'restore' if restoring else 'reset'} of environment {data.get('env')!r} started {data.get('started')} did not finish "
            f"(status {data.get('status')}, steps done: {done}): {remedy}")
