"""Every database of reset.yaml's environments, read: where each stands with the reset.

For every environment (or those asked for) and each of its database aliases,
from django_migrations alone: nothing applied, the old history applied, the
new migrations recorded, retired, or not safe.  Not safe is only part of the
old history (migrate would leave the rest out), and, once the files no longer
replace anything (retired: the reset is known from reset-history.json only),
the old history without the new rows (plain migrate would try to create what
is there).  Environments that share a database are one entry.  It only reads:
a SQLite file that is not there is not created.  A database it cannot read
(a ``${VAR}`` not set here, a server down, a missing file) is "unreachable",
with the reason.  ``status`` renders it; ``retire`` refuses from it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable

from djreset import engines
from djreset.bridge import history, replacing, rollout
from djreset.errors import DjresetError
from djreset.secrets import mask

if TYPE_CHECKING:
    from djreset.bridge import DjangoBridge
    from djreset.config import Project

# The row of a database with several apps shows the first of these any app is at.
ORDER = (rollout.Standing.PARTIAL, rollout.Standing.OLD, rollout.Standing.EMPTY, rollout.Standing.RECORDED, rollout.Standing.RETIRED)
DEPLOY_RECIPE = "check-applied, backup, rewrite-history, verify"
# Where retire may remove replaces: every database has the new rows, or none of the reset apps' rows.
RETIRABLE = (rollout.Standing.RECORDED, rollout.Standing.RETIRED, rollout.Standing.EMPTY)


@dataclass
class Database:
    """One database as the survey found it (several environments may share it)."""

    environments: list[str]
    alias: str
    describe: str
    engine: "engines.Engine | None" = None
    settings: dict[str, Any] = field(default_factory=dict)
    apps: dict[str, rollout.AppStanding] = field(default_factory=dict)
    unreachable: str | None = None
    # Reset apps whose files no longer replace anything (retired): plain migrate cannot record them here.
    retired: frozenset[str] = frozenset()

    @property
    def where(self) -> str:
        return f"{', '.join(self.environments)} ({self.alias})"

    @property
    def standing(self) -> rollout.Standing | None:
        found = {value.standing for value in self.apps.values()}
        return next((standing for standing in ORDER if standing in found), None)

    def stranded(self, app: str) -> bool:
        """The old history is here and the files were retired: plain migrate would fail."""
        return app in self.retired and self.apps[app].standing is rollout.Standing.OLD

    def problems(self) -> list[str]:
        """Why plain migrate is not safe here, app by app, each with what to do."""
        lines = []
        for app, value in self.apps.items():
            if value.standing is rollout.Standing.PARTIAL:
                then = f", then the deploy recipe ({DEPLOY_RECIPE})" if app in self.retired else ""
                lines.append(f"{value.describe(app)}; {rollout.Standing.PARTIAL.advice}{then} "
                             "(until then `manage.py migrate` would leave the rest out)")
            elif self.stranded(app):
                lines.append(f"{app}: old history applied, but the migration files no longer replace it (retired), so plain "
                             f"`manage.py migrate` would fail here; run the deploy recipe first: {DEPLOY_RECIPE}")
        return lines

    @property
    def safe(self) -> bool:
        return self.unreachable is None and not self.problems()

    def state(self) -> str:
        if self.unreachable:
            return f"unreachable: {self.unreachable}"
        standing = self.standing
        if standing is None:
            return "no reset app has rows here"
        if standing is rollout.Standing.PARTIAL:
            return "NOT SAFE: only part of the old history"
        if any(self.stranded(app) for app in self.apps):
            return "NOT SAFE: old history applied, files retired (run the deploy recipe)"
        return f"{standing.value}: {standing.advice}"


@dataclass
class Survey:
    resets: dict[str, rollout.AppReset]
    databases: list[Database]
    # The reset apps whose files still carry replaces (retire would remove them).
    replacing: frozenset[str] = frozenset()
    # Other apps' migrations that name a replaced migration: retire refuses until each is edited.
    stale: list[str] = field(default_factory=list)

    def unsafe(self) -> list[Database]:
        return [database for database in self.databases if database.unreachable is None and not database.safe]

    def unreachable(self) -> list[Database]:
        return [database for database in self.databases if database.unreachable is not None]

    def not_ready_to_retire(self) -> list[str]:
        """Each database that keeps retire from removing replaces, and what to do there."""
        lines = []
        for database in self.databases:
            if database.unreachable is not None:
                lines.append(f"{database.where}: cannot be read ({database.unreachable}): retire must see every environment of "
                             "reset.yaml; make it reachable from here (its ${VAR}s, its server, its file), or take the "
                             "environment out of reset.yaml if that database is gone")
                continue
            for app, value in database.apps.items():
                if value.standing not in RETIRABLE:
                    lines.append(f"{database.where}: {value.describe(app)}: it has not recorded the new migrations "
                                 "(deploy the reset there: plain `manage.py migrate`)")
        return lines


def targets(bridge: "DjangoBridge", project: "Project", names: Iterable[str]) -> list[Database]:
    """Every (environment, alias) to look at, one entry per distinct database."""
    found: dict[tuple[str, str], Database] = {}
    for name in names:
        try:
            env = project.environment(name)
            pairs = [(alias, engines.for_spec(spec)) for alias, spec in env.databases.items()]
            if not pairs:  # the settings' own databases, also where this run's reset.yaml ones replaced them
                pairs = [(alias, engines.for_django(alias, dict(entry))) for alias, entry in bridge.settings_databases.items()]
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


def read(bridge: "DjangoBridge", database: Database, resets: dict[str, rollout.AppReset]) -> None:
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


def survey(bridge: "DjangoBridge", project: "Project", names: Iterable[str]) -> Survey:
    """The reset apps' resets, and every database of the environments ``names``, read."""
    try:
        resets = history.resets(bridge, project.apps)
        loader = bridge.loader()
        replacing_now = frozenset(app for app, reset in resets.items() if reset.groups)  # groups: while the files replace
        retired = frozenset(resets) - replacing_now
        databases = targets(bridge, project, names)
        for database in databases:
            database.retired = retired
            if database.unreachable is None and resets:
                read(bridge, database, resets)
        stale = replacing.stale_references(loader, replacing.replaced_by(loader, project.apps))
    finally:
        bridge.close_connections()
    return Survey(resets, databases, replacing_now, stale)
