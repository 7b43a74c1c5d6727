"""``djreset status``: where every environment's databases stand with the reset.

The survey (bridge/survey.py) reads every environment of reset.yaml (or the
one ``--env`` or ``DJRESET_ENV`` names); this module renders it: one table,
what each database that is not safe lacks, and whether ``retire`` would go
ahead.  The exit code is non-zero while any database is not safe or cannot be
read: a deploy gate must not pass while an environment is unknown.
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from djreset.bridge import DjangoBridge, survey as surveying
from djreset.safety import lock
from djreset.safety.journal import Journal, describe_unfinished

if TYPE_CHECKING:
    from djreset.config import Project


def unfinished_run(project: "Project") -> str | None:
    """A run of this project that neither finished nor rolled back (its journal), and the remedy."""
    data = Journal(project).unfinished(lock_free=lock.holder(project) is None)
    return describe_unfinished(data) if data else None


def survey(project: "Project", env: str | None) -> surveying.Survey:
    """Every environment of reset.yaml, read; --env or DJRESET_ENV narrows it to one (default_env does not)."""
    names = [project.choose_environment(env)] if env or os.environ.get("DJRESET_ENV") else list(project.environment_blocks)
    return surveying.survey(DjangoBridge(project, None), project, names)


def rows(found: surveying.Survey) -> list[tuple[str, ...]]:
    table = [("environment", "alias", "database", "state")]
    for database in found.databases:
        state = database.state()
        if found.stale and state.endswith(": ready to retire"):
            state = state.replace("ready to retire", "retire needs the edits below first")
        table.append((", ".join(database.environments), database.alias, database.describe, state))
    return table


def details(found: surveying.Survey) -> list[str]:
    """What each database that is not safe lacks, app by app, and what to do."""
    return [f"{database.where}: {line}" for database in found.databases for line in database.problems()]


def retire_lines(found: surveying.Survey) -> list[str]:
    """Whether retire would remove the replaces lists now, as retire itself decides it."""
    if not found.replacing:
        return []
    waiting = found.not_ready_to_retire()
    if not waiting and not found.stale:
        return ["retire: ready (every database recorded the new migrations): `djreset retire` once, commit, then in each environment"]
    return ["retire would refuse until:"] + [f"  {line}" for line in waiting + found.stale]


def failure(found: surveying.Survey) -> str | None:
    """The one line the exit code stands for, or None (exit 0)."""
    parts = []
    unsafe, unreachable = found.unsafe(), found.unreachable()
    if unsafe:
        parts.append(f"{len(unsafe)} database(s) not safe to migrate ({'; '.join(d.where for d in unsafe)})")
    if unreachable:
        parts.append(f"{len(unreachable)} database(s) could not be read, so nothing is known of them "
                     f"({'; '.join(d.where for d in unreachable)}; --env or DJRESET_ENV narrows status to one environment)")
    return "status: " + "; ".join(parts) if parts else None


def as_json(found: surveying.Survey) -> dict[str, Any]:
    """The same survey for ``--json``: the reset, then each database with each app's standing."""
    return {
        "reset": {app: {"replaced": sorted(reset.old), "new": sorted(reset.new), "files_replace": app in found.replacing}
                  for app, reset in found.resets.items()},
        "databases": [
            {
                "environments": database.environments,
                "alias": database.alias,
                "database": database.describe,
                "state": database.standing.name.lower() if database.standing else None,
                "safe": database.safe if database.unreachable is None else None,
                "unreachable": database.unreachable,
                "problems": database.problems(),
                "apps": {app: {"state": value.standing.name.lower(), "missing": list(value.missing)} for app, value in database.apps.items()},
            }
            for database in found.databases
        ],
        "retire": {"ready": bool(found.replacing) and not found.not_ready_to_retire() and not found.stale,
                   "waiting_for": found.not_ready_to_retire() if found.replacing else [], "stale_references": found.stale},
    }
