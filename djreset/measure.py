"""measure: the project's own numbers, before and after a reset.

Migration files and operations per app, the time Django takes to load the
migration graph, and the time to migrate an empty scratch database.  Each
measurement is saved in .djreset/measurements/; every backup keeps the cheap
part (files, operations, graph load), so after a reset ``djreset measure``
shows what it bought.
"""
from __future__ import annotations

import json
import secrets
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from djreset import backup as backups
from djreset import graphs
from djreset.errors import StepFailed
from djreset.registry import step
from djreset.steps.files import migration_files

if TYPE_CHECKING:
    from djreset.run import Run


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
        files = len({path.name.split(".")[0] for path in migration_files(package.directory)}) if package.directory else 0
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
    from djreset.steps.verify import _quiet

    scratch = run.engine(alias).scratch(secrets.token_hex(3))
    quiet = _quiet()
    scratch.drop(quiet, if_exists=True, force=True)
    scratch.create(quiet)
    settings = scratch.django_settings()
    if scratch.spec.admin_user:
        settings.update(USER=scratch.spec.admin_user, PASSWORD=scratch.spec.admin_password or "")
    try:
        run.django.add_connection(scratch.alias, settings)
        begin = time.perf_counter()
        graphs.apply_to_empty(run.django, scratch.alias, run.django.loader().graph)
        return time.perf_counter() - begin
    finally:
        run.django.remove_connection(scratch.alias)
        scratch.drop(quiet, if_exists=True, force=True)


def cheap(run: "Run") -> dict[str, Any]:
    """What a backup keeps: no scratch database, so it costs next to nothing."""
    return {"apps": counts(run), "graph_load_seconds": run.django.load_seconds}


def _folder(run: "Run") -> Path:
    return run.project.state_dir / "measurements"


def _saved(run: "Run") -> list[dict[str, Any]]:
    folder = _folder(run)
    if not folder.is_dir():
        return []
    return sorted((json.loads(p.read_text()) for p in folder.glob(f"{run.env.name}-*.json")), key=lambda m: m["at"])


def _before(run: "Run") -> dict[str, Any] | None:
    """The numbers from before the last reset: its backup, and a full measure taken before it."""
    mine = [b for b in backups.all_backups(run.project) if b.manifest["env"] == run.env.name and b.manifest.get("measurements")]
    if not mine:
        return None
    last = mine[-1]
    before = dict(last.manifest["measurements"], at=last.manifest["created"], backup=last.id)
    earlier = [m for m in _saved(run) if m["at"] <= last.manifest["created"]]
    if earlier:
        before["migrate_seconds"] = earlier[-1].get("migrate_seconds")
    return before


UNKNOWN = "?"  # operations of a backup taken while the graph could not load


def _total(numbers: dict[str, Any], key: str) -> str:
    values = [app[key] for app in numbers["apps"].values()]
    return UNKNOWN if None in values else str(sum(values))


def _app_counts(numbers: dict[str, Any] | None) -> str:
    if numbers is None:
        return "-"
    operations = UNKNOWN if numbers["operations"] is None else numbers["operations"]
    return f"{numbers['files']} files, {operations} ops"


def _seconds(value: float | None) -> str:
    return f"{value:.2f}s" if value is not None else "-"


@step("measure", read_only=True)
def measure(run: "Run") -> None:
    """Count migrations and time graph loading and a fresh migrate; compare with before the last reset."""
    now = {"at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "apps": counts(run)}
    now["graph_load_seconds"] = graph_load_seconds(run)
    now["migrate_seconds"] = migrate_seconds(run, "default" if "default" in run.aliases else run.aliases[0])
    before = _before(run)
    rows = [("", f"before (backup {before['backup']})" if before else "before", "now")]
    b = before or {}
    rows.append(("migration files", _total(b, "files") if before else "-", _total(now, "files")))
    rows.append(("operations", _total(b, "operations") if before else "-", _total(now, "operations")))
    rows.append(("load the migration graph", _seconds(b.get("graph_load_seconds")), _seconds(now["graph_load_seconds"])))
    rows.append(("migrate an empty database", _seconds(b.get("migrate_seconds")), _seconds(now["migrate_seconds"])))
    for label, numbers in now["apps"].items():
        rows.append((f"  {label}", _app_counts(b.get("apps", {}).get(label)), _app_counts(numbers)))
    run.out.table(rows)
    if not run.dry:
        folder = _folder(run)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{run.env.name}-{now['at'].replace(':', '')}.json").write_text(json.dumps(now, indent=2))
