"""The project's own numbers, before and after a reset.

Migration files and operations per app, the time Django takes to load the
migration graph, and the time to migrate an empty scratch database.  Each
full measurement is saved in .djreset/measurements/; every backup keeps the
cheap part (files, operations, graph load), so after a reset ``djreset
measure`` shows what it bought.
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from djreset import state
from djreset.bridge import graphs
from djreset.bridge.packages import migration_files, migration_names
from djreset.errors import StepFailed

if TYPE_CHECKING:
    from djreset.run import Run

UNKNOWN = "?"  # operations of a backup taken while the graph could not load


def counts(run: "Run") -> dict[str, dict[str, int | None]]:
    """Per listed app: migration files on disk, and operations in them.

    Operations need the graph to load.  A backup taken while it cannot (files
    half deleted by a killed run, before ``restore``) still counts the files,
    and leaves operations unknown (None) rather than failing the backup.
    """
    try:
        disk = run.django.loader().disk_migrations
    except StepFailed:
        disk = None
    result: dict[str, dict[str, int | None]] = {}
    for label in run.apps:
        package = run.django.migrations_package(label)
        files = len(migration_names(migration_files(package.directory))) if package.directory else 0
        operations = None if disk is None else sum(len(m.operations) for (app, _), m in disk.items() if app == label)
        result[label] = {"files": files, "operations": operations}
    return result


def graph_load_seconds(run: "Run") -> float:
    """A cold load of the migration graph, imports included."""
    run.django.forget_migration_modules(run.apps)
    begin = time.perf_counter()
    run.django.loader()
    return time.perf_counter() - begin


def migrate_seconds(run: "Run", alias: str) -> float:
    """Every migration on disk, applied to an empty scratch database."""
    with run.scratch_database(alias) as scratch, run.out.progress("migrating an empty scratch database") as progress:
        begin = time.perf_counter()
        graphs.apply_to_empty(run.django, scratch, run.django.loader().graph, progress=progress)
        return time.perf_counter() - begin


def cheap(run: "Run") -> dict[str, Any]:
    """What a backup keeps: no scratch database, so it costs next to nothing."""
    return {"apps": counts(run), "graph_load_seconds": run.django.load_seconds}


def before_last_reset(run: "Run") -> dict[str, Any] | None:
    """The numbers from before the last reset: its backup, and a full measure taken before it."""
    mine = [b for b in state.all_backups(run.project) if b.manifest["env"] == run.env.name and b.manifest.get("measurements")]
    if not mine:
        return None
    last = mine[-1]
    before = dict(last.manifest["measurements"], at=last.manifest["created"], backup=last.id)
    earlier = [m for m in state.saved_measurements(run.project, run.env.name) if m["at"] <= last.manifest["created"]]
    if earlier:
        before["migrate_seconds"] = earlier[-1].get("migrate_seconds")
    return before


def total(numbers: dict[str, Any], key: str) -> str:
    values = [app[key] for app in numbers["apps"].values()]
    return UNKNOWN if None in values else str(sum(values))


def app_counts(numbers: dict[str, Any] | None) -> str:
    if numbers is None:
        return "-"
    operations = UNKNOWN if numbers["operations"] is None else numbers["operations"]
    return f"{numbers['files']} files, {operations} ops"


def seconds(value: float | None) -> str:
    return f"{value:.2f}s" if value is not None else "-"
