"""``djreset status``: where every environment's databases stand with the reset.

For every environment of reset.yaml (or the one ``--env`` names) and each of
its database aliases, from django_migrations alone: nothing applied, the old
history applied (migrate records the new migrations), the new migrations
recorded (ready to retire), retired, or only part of the old history (not
safe: migrate would leave the rest out).  Environments that share a database
are one row.  It only reads: a SQLite file that is not there is not created.
An environment it cannot reach (a ``${VAR}`` not set here, a server it cannot
connect to) is listed with the reason and does not stop the others.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from djreset import engines
from djreset.bridge import DjangoBridge, history, rollout
from djreset.errors import DjresetError
from djreset.secrets import mask

if TYPE_CHECKING:
    from djreset.config import Project

# The row of a database with several apps shows the first of these any app is at.
ORDER = (rollout.Standing.PARTIAL, rollout.Standing.OLD, rollout.Standing.EMPTY, rollout.Standing.RECORDED, rollout.Standing.RETIRED)


@dataclass
class Database:
    """One database as status found it (several environments may share it)."""

    environments: list[str]
    alias: str
    describe: str
    engine: "engines.Engine | None" = None
    settings: dict[str, Any] = field(default_factory=dict)
    apps: dict[str, rollout.AppStanding] = field(default_factory=dict)
    unreachable: str | None = None

    @property
    def standing(self) -> rollout.Standing | None:
        found = {value.standing for value in self.apps.values()}
        return next((standing for standing in ORDER if standing in found), None)

    @property
    def safe(self) -> bool:
        return self.unreachable is None and all(value.standing.safe for value in self.apps.values())

    def state(self) -> str:
        if self.unreachable:
            return f"unreachable: {self.unreachable}"
        standing = self.standing
        if standing is None:
            return "no reset app has rows here"
        if standing is rollout.Standing.PARTIAL:
            return "NOT SAFE: only part of the old history"
        return f"{standing.value}: {standing.advice}"


def _targets(bridge: DjangoBridge, project: "Project", names: list[str]) -> list[Database]:
    """Every (environment, alias) to look at, one entry per distinct database."""
    found: dict[tuple[str, str], Database] = {}
    for name in names:
        try:
            env = project.environment(name)
            pairs = [(alias, engines.for_spec(spec)) for alias, spec in env.databases.items()]
            if not pairs:
                pairs = [(alias, engines.for_django(alias, dict(entry))) for alias, entry in bridge.settings.DATABASES.items()]
        except DjresetError as exc:
            found[(name, "?")] = Database([name], "?", "-", unreachable=mask(str(exc)))
            continue
        for alias, engine in pairs:
            key = (alias, engine.describe())
            if key in found:
                found[key].environments.append(name)
            else:
                found[key] = Database([name], alias, engine.describe(), engine, engine.django_settings())
    return list(found.values())


def _read(bridge: DjangoBridge, database: Database, resets: dict[str, rollout.AppReset]) -> None:
    """The database's rows of the reset apps, through a connection of its own; any failure is "unreachable"."""
    assert database.engine is not None
    if database.engine.file_based and not database.engine.exists():
        database.unreachable = "the database file does not exist"
        return
    try:
        with bridge.redirected(database.settings):  # every alias points at it while it is read
            database.apps = history.standings(bridge, "default", resets)
    except Exception as exc:  # a server down, a password refused: this one database is unknown
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        database.unreachable = mask(f"{type(exc).__name__}: {first}")


def survey(project: "Project", env: str | None) -> tuple[dict[str, rollout.AppReset], list[Database]]:
    """The reset apps' resets, and every database of every environment (or of ``env``), read."""
    # --env or DJRESET_ENV narrows it to one; default_env does not (status is about every environment).
    names = [project.choose_environment(env)] if env or os.environ.get("DJRESET_ENV") else list(project.environment_blocks)
    bridge = DjangoBridge(project, None)
    try:
        resets = history.resets(bridge, project.apps)
        databases = _targets(bridge, project, names)
        for database in databases:
            if database.unreachable is None and resets:
                _read(bridge, database, resets)
    finally:
        bridge.close_connections()
    return resets, databases


def rows(databases: list[Database]) -> list[tuple[str, ...]]:
    table = [("environment", "alias", "database", "state")]
    table += [(", ".join(d.environments), d.alias, d.describe, d.state()) for d in databases]
    return table


def details(databases: list[Database]) -> list[str]:
    """What each database that is not safe lacks, app by app, and what to do."""
    lines = []
    for database in databases:
        for line in rollout.unsafe(database.apps):
            lines.append(f"{', '.join(database.environments)} ({database.alias}): {line}; {rollout.Standing.PARTIAL.advice} "
                         "(until then `manage.py migrate` would leave the rest out)")
    return lines


def as_json(resets: dict[str, rollout.AppReset], databases: list[Database]) -> dict[str, Any]:
    """The same survey for ``--json``: the reset, then each database with each app's standing."""
    return {
        "reset": {app: {"replaced": sorted(reset.old), "new": sorted(reset.new)} for app, reset in resets.items()},
        "databases": [
            {
                "environments": database.environments,
                "alias": database.alias,
                "database": database.describe,
                "state": database.standing.name.lower() if database.standing else None,
                "safe": database.safe if database.unreachable is None else None,
                "unreachable": database.unreachable,
                "apps": {app: {"state": value.standing.name.lower(), "missing": list(value.missing)} for app, value in database.apps.items()},
            }
            for database in databases
        ],
    }
