"""Where one database stands with a reset, from its django_migrations rows alone.

A reset's new migrations replace the old ones (``replaces``), so a database is
in one of five places for each reset app: nothing applied (migrate builds
it), the old history applied (migrate records the new migrations), the new
migrations recorded beside the old rows (ready to retire), the new ones only
(retired, or swapped at once by rewrite-history), or only part of the old
history: then ``migrate`` would silently leave the rest out, so it is not safe.
The same rule serves ``status``, the deploy guard, ``record-new``,
``rewrite-history``, ``check-applied`` and ``retire``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Iterable, Mapping

if TYPE_CHECKING:
    from django.db.migrations.loader import MigrationLoader

Key = tuple[str, str]
# The names a reset writes (replacing.reset_tag): 0001_reset_20261125, 0002_reset_20261125_2_seed...
RESET_NAME = re.compile(r"^[0-9]+_reset_[0-9]{8}(_[0-9]+)?(_|$)")  # not a later squash of them: 0001_squashed_0002_reset_...


class Standing(Enum):
    EMPTY = "nothing applied"
    OLD = "old history applied"
    RECORDED = "new migrations recorded, old rows kept"
    RETIRED = "new migrations only"
    PARTIAL = "only part of the old history"

    @property
    def safe(self) -> bool:
        return self is not Standing.PARTIAL

    @property
    def advice(self) -> str:
        return ADVICE[self]


ADVICE = {
    Standing.EMPTY: "migrate builds it from the new migrations",
    Standing.OLD: "migrate records the new migrations",
    Standing.RECORDED: "ready to retire",
    Standing.RETIRED: "retired",
    Standing.PARTIAL: "deploy the release before the reset and run migrate there first",
}


@dataclass(frozen=True)
class AppReset:
    """One app's reset: the old migrations replaced, and the new ones."""

    app: str
    old: frozenset[str]
    new: frozenset[str]
    # While the files carry ``replaces``: each new migration with the old ones it replaces
    # (Django decides for each on its own whether it counts as applied).
    groups: tuple[tuple[str, frozenset[str]], ...] = ()

    def missing(self, rows: set[str]) -> set[str]:
        """Old migrations this database lacks where Django could not use the new one
        replacing them: some of what it replaces applied, not all (and it is not recorded)."""
        if not self.groups:
            return set(self.old - rows)
        return {name for new, old in self.groups if new not in rows and old & rows for name in old - rows}

    def recordable(self, rows: set[str]) -> list[str]:
        """The new migrations migrate would record here: those whose old ones are all applied."""
        if not self.groups:
            return sorted(self.new - rows)
        return sorted(new for new, old in self.groups if new not in rows and old <= rows)


@dataclass(frozen=True)
class AppStanding:
    standing: Standing
    missing: tuple[str, ...] = ()  # PARTIAL: the old migrations this database never applied

    def describe(self, app: str) -> str:
        if self.standing is Standing.PARTIAL:
            names = ", ".join(f"{app}.{name}" for name in self.missing)
            return f"{app}: only part of its old history is applied ({names} never was)"
        return f"{app}: {self.standing.value}"


def classify(reset: AppReset, rows: set[str]) -> AppStanding:
    """Where a database with these rows of the app stands with its reset."""
    if reset.new and reset.new <= rows:
        return AppStanding(Standing.RECORDED if reset.old & rows else Standing.RETIRED)
    old = reset.old & rows
    if not old and not reset.new & rows:
        return AppStanding(Standing.EMPTY)
    missing = reset.missing(rows)
    if not missing:
        return AppStanding(Standing.OLD)
    return AppStanding(Standing.PARTIAL, tuple(sorted(missing)))


def from_files(loader: "MigrationLoader", labels: Iterable[str] | None = None) -> dict[str, AppReset]:
    """The resets the migration files still carry: per app, the migrations a reset
    wrote that still have ``replaces``, their replaced ones no longer on disk.  (The
    project's own squashes are Django's business; so is an app whose old files are
    all still there: Django uses them.)"""
    found: dict[str, list[tuple[str, frozenset[str]]]] = {}
    for (app, name), migration in sorted(loader.disk_migrations.items()):
        if not migration.replaces or (labels is not None and app not in labels) or not RESET_NAME.search(name):
            continue
        if any(tuple(old) not in loader.disk_migrations for old in migration.replaces):
            replaced = frozenset(old for owner, old in map(tuple, migration.replaces) if owner == app)
            found.setdefault(app, []).append((name, replaced))
    return {
        app: AppReset(app, frozenset().union(*(old for _, old in groups)), frozenset(new for new, _ in groups), tuple(groups))
        for app, groups in sorted(found.items())
    }


def from_record(apps: Mapping[str, Mapping[str, list[str]]], labels: Iterable[str]) -> dict[str, AppReset]:
    """The resets reset-history.json records (it outlives the replaces lists)."""
    return {
        label: AppReset(label, frozenset(apps[label].get("replaced", ())), frozenset(apps[label].get("new", ())))
        for label in labels
        if label in apps and apps[label].get("new")
    }


def standings(resets: Mapping[str, AppReset], rows: Mapping[str, set[str]]) -> dict[str, AppStanding]:
    return {app: classify(reset, rows.get(app, set())) for app, reset in resets.items()}


def unsafe(found: Mapping[str, AppStanding]) -> list[str]:
    return [found[app].describe(app) for app in found if not found[app].standing.safe]


# -- what rewrite-history and record-new change ----------------------------------------


@dataclass
class HistoryChange:
    """Rows to delete and rows to record on one database, decided from its rows."""

    alias: str
    found: dict[str, AppStanding]
    record: list[Key] = field(default_factory=list)
    forget: list[Key] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.record and not self.forget

    def describe(self) -> str:
        parts = []
        if self.forget:
            parts.append(f"delete {len(self.forget)} rows of {', '.join(sorted({app for app, _ in self.forget}))}")
        if self.record:
            parts.append("record " + ", ".join(f"{app}.{name}" for app, name in self.record))
        return f"{self.alias}: " + " and ".join(parts) + " (one transaction)"

    def describe_standings(self) -> str:
        return ", ".join(f"{app} {value.standing.value}" for app, value in self.found.items())


def plan_record(alias: str, resets: Mapping[str, AppReset], found: dict[str, AppStanding], rows: Mapping[str, set[str]]) -> HistoryChange:
    """record-new: the new migrations of every app whose old history is applied (the old rows stay),
    each where migrate would record it (all it replaces applied)."""
    record = [
        (app, name)
        for app, reset in resets.items()
        if found[app].standing is Standing.OLD
        for name in reset.recordable(rows.get(app, set()))
    ]
    return HistoryChange(alias, found, record=record)


def plan_swap(alias: str, resets: Mapping[str, AppReset], found: dict[str, AppStanding], rows: Mapping[str, set[str]]) -> HistoryChange:
    """rewrite-history, the immediate swap: the old rows out, the new ones in."""
    change = plan_record(alias, resets, found, rows)
    change.forget = [
        (app, name)
        for app, reset in resets.items()
        if found[app].standing in (Standing.OLD, Standing.RECORDED)
        for name in sorted(reset.old & rows.get(app, set()))
    ]
    return change
