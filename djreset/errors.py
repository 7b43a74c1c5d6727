"""The errors djreset reports to the user, each with its exit code."""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable


@dataclass(frozen=True)
class Where:
    """Where a value came from: a file, a line in it and the dotted key."""

    file: Path
    line: int
    key: str

    def __str__(self) -> str:
        location = f"{self.file}:{self.line}" if self.line else str(self.file)
        return f"{location}: {self.key}" if self.key else location


class Interrupted(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C: stop, roll back, exit (143; Ctrl-C 130)."""


class DjresetError(Exception):
    """An error to print as one line, without a traceback."""

    exit_code = 1


class ConfigError(DjresetError):
    """Bad input: reset.yaml, its environment variables or the command line."""

    exit_code = 2

    def __init__(self, message: str, where: Where | None = None):
        self.message = message
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)


class Refused(DjresetError):
    """A safety check said no; nothing was changed."""


class StepFailed(DjresetError):
    """A step failed while it ran."""


class SessionsOpen(StepFailed):
    """Other sessions use a database djreset would drop.  The message names drop-db's
    fix; whoever else drops (restore, a rollback) names its own with :meth:`fix`."""

    def __init__(self, problem: str, ending: str = "end"):
        self.problem, self.ending = problem, ending
        super().__init__(f"{problem}. Close them, or set force: true on drop-db to {ending} them")

    def fix(self, remedy: str) -> StepFailed:
        return StepFailed(f"{self.problem}. Close them, or {remedy} to {self.ending} them")


class NothingToDo(Exception):
    """A step found the work already done: the recipe ends here, successfully."""


def suggest(name: str, known: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the nearest known name, or nothing."""
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""
