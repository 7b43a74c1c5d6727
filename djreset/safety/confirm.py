"""Confirmation before destructive steps.

On a terminal djreset asks; without one it refuses unless ``--yes``.  A
protected environment (``protected: true``, or by default any environment
whose database is on another machine) needs the database name typed, or
``--yes`` together with ``DJRESET_CONFIRM=<environment>``: ``--yes`` alone,
copied from a developer's notes into a production shell, is not enough.
"""
from __future__ import annotations

import os
from typing import Sequence

from djreset import ui
from djreset.config import StepCall
from djreset.errors import Refused
from djreset.run import Run


def _database_names(run: Run) -> list[str]:
    return [run.engine(alias).display_name for alias in run.aliases]


def _protected(run: Run, what: str) -> None:
    if run.assume_yes:
        if os.environ.get("DJRESET_CONFIRM") == run.env.name:
            return
        raise Refused(f"{run.env.name!r} is protected: --yes also needs DJRESET_CONFIRM={run.env.name} in the environment")
    if not ui.is_interactive():
        raise Refused(f"{run.env.name!r} is protected and stdin is not a terminal: nothing was changed")
    expected = _database_names(run)
    answer = ui.ask(f"This will run {what}. Type the database name ({' or '.join(expected)}) to continue: ")
    if answer not in expected:
        raise Refused("the name did not match; nothing was changed")


def confirm(run: Run, calls: Sequence[StepCall]) -> None:
    destructive = [call.name for call in calls if call.is_destructive]
    if not destructive or run.dry:
        return
    what = f"{', '.join(dict.fromkeys(destructive))} on environment {run.env.name!r}"
    if run.protected:
        _protected(run, what)
        return
    if run.assume_yes:
        return
    if not ui.is_interactive():
        raise Refused(f"{what} needs confirmation, and stdin is not a terminal: pass --yes")
    if ui.ask(f"This will run {what}. Continue? [y/N] ").lower() not in ("y", "yes"):
        raise Refused("cancelled; nothing was changed")
