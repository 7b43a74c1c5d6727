"""Backups: everything a reset may destroy, saved first, and put back on demand.

A backup is a folder ``<backup_dir>/<timestamp>-<env>/`` with:

* ``files.tar.gz``: the listed apps' migrations folders (without __pycache__);
* ``history-<alias>.json``: every row of django_migrations, ids included;
* ``database-<alias>.*``: an engine dump, when the recipe drops the database;
* ``manifest.json``: what is in it, written last, so a backup without a
  complete manifest is never used.
"""
from __future__ import annotations

import json
import shutil
import tarfile
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from djreset import __version__, measure, state
from djreset.bridge import history
from djreset.bridge.packages import migration_files
from djreset.errors import Refused
from djreset.state import MANIFEST, Backup

if TYPE_CHECKING:
    from djreset.run import Run

FILES_ARCHIVE = "files.tar.gz"


# -- making one ----------------------------------------------------------------


def _new_folder(run: "Run") -> Path:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    folder = run.project.backup_dir / f"{stamp}-{run.env.name}"
    suffix = 1
    while folder.exists():  # two backups in one second
        suffix += 1
        folder = run.project.backup_dir / f"{stamp}-{run.env.name}-{suffix}"
    return folder


def _archive_files(run: "Run", folder: Path) -> dict[str, str]:
    """Tar the listed apps' migrations folders; return label → folder (relative)."""
    folders: dict[str, str] = {}
    # Level 1: migration files compress well anyway, and this runs before every reset.
    with tarfile.open(folder / FILES_ARCHIVE, "w:gz", compresslevel=1) as archive:
        for label in run.apps:
            package = run.django.migrations_package(label)
            if package.directory is None:
                continue
            relative = package.directory.relative_to(run.project.root)
            folders[label] = str(relative)
            archive.add(package.directory, arcname=str(relative), filter=lambda info: None if "__pycache__" in info.name else info)
    return folders


def _history_rows(run: "Run", alias: str) -> list[dict[str, Any]] | None:
    if not run.engine(alias).exists():
        return None
    return history.all_rows(run.django, alias)


def create(run: "Run", *, with_database: bool, reason: str = "manual") -> Backup:
    """Back up files, history and (optionally) the databases; print where."""
    folder = _new_folder(run)
    folder.mkdir(parents=True)
    _ignore_in_git(run.project.backup_dir)
    reset_history = state.reset_history_path(run.project)
    manifest: dict[str, Any] = {
        "id": folder.name,
        "env": run.env.name,
        "reason": reason,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "djreset": __version__,
        "apps": list(run.apps),
        "files": _archive_files(run, folder),
        # reset-history.json changes with the files; it goes back with them.
        "marker": reset_history.read_text() if reset_history.is_file() else None,
        "history": {},
        "databases": {},
        "measurements": measure.cheap(run),
    }
    for alias in run.aliases:
        rows = _history_rows(run, alias)
        if rows is not None:
            (folder / f"history-{alias}.json").write_text(json.dumps(rows, indent=1))
            manifest["history"][alias] = len(rows)
        engine = run.engine(alias)
        if with_database and engine.exists():
            run.django.close_connections()
            with run.out.progress(f"dumping database {alias}", log=False):
                dump = engine.backup(folder)
            target = dump.with_name(f"database-{alias}{''.join(dump.suffixes)}")
            dump.rename(target)
            manifest["databases"][alias] = {
                "engine": engine.name,
                "dump": target.name,
                "facts": engine.remember_before_drop(),
            }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2))
    backup = Backup(folder, manifest)
    run.out.info(f"backup {backup.describe()}")
    run.out.info(f"    in {folder}")
    return backup


def _ignore_in_git(folder: Path) -> None:
    """Backups hold data: keep them out of commits even without a .gitignore entry."""
    marker = folder / ".gitignore"
    if not marker.exists():
        marker.write_text("*\n")


# -- putting one back ------------------------------------------------------------


def restore(run: "Run", backup: Backup) -> None:
    """Databases from their dumps, then history rows, then files: exactly as saved."""
    manifest = backup.manifest
    if manifest["apps"] != list(run.apps):
        raise Refused(f"backup {backup.id} was made for apps {manifest['apps']}, reset.yaml now lists {list(run.apps)}")
    run.django.close_connections()
    for alias, saved in manifest.get("databases", {}).items():
        engine = run.engine(alias)
        engine.recreate_with(saved.get("facts", {}))
        with run.out.progress(f"restoring database {alias}", log=False):
            engine.restore(run.actions, backup.folder / saved["dump"])
    run.django.close_connections()
    for alias in manifest.get("history", {}):
        if alias in manifest.get("databases", {}):
            continue  # the dump brought the history back already
        _restore_history(run, alias, json.loads((backup.folder / f"history-{alias}.json").read_text()))
    _restore_files(run, backup)
    _restore_reset_history(run, backup)


def _restore_reset_history(run: "Run", backup: Backup) -> None:
    saved, path = backup.manifest.get("marker"), state.reset_history_path(run.project)
    if saved is None:
        if path.exists():
            run.actions.do(f"delete {run.relative(path)} (it did not exist before)", path.unlink)
    else:
        run.actions.do(f"restore {run.relative(path)}", lambda: path.write_text(saved))
    # Kept data migrations staged by an interrupted clean-files are stale now.
    if not run.actions.dry:
        state.forget_pending(run.project)


def _restore_history(run: "Run", alias: str, rows: list[dict[str, Any]]) -> None:
    run.actions.do(f"restore {len(rows)} django_migrations rows on {alias}", lambda: history.replace_all_rows(run.django, alias, rows))


def _restore_files(run: "Run", backup: Backup) -> None:
    archive_path = backup.folder / FILES_ARCHIVE
    folders = backup.manifest.get("files", {})
    for relative in folders.values():
        directory = run.project.root / relative
        if directory.is_dir():
            for path in migration_files(directory):
                run.actions.do(f"delete {run.relative(path)}", path.unlink)
            cache = directory / "__pycache__"
            if cache.is_dir():
                run.actions.do(f"delete {run.relative(cache)}/", lambda cache=cache: shutil.rmtree(cache))

    def extract() -> None:
        with tarfile.open(archive_path) as archive:
            members = archive.getmembers()
            for member in members:
                # Only plain files and folders inside the project.
                target = (run.project.root / member.name).resolve()
                if not (member.isfile() or member.isdir()) or run.project.root.resolve() not in target.parents:
                    raise Refused(f"backup archive {archive_path} holds an unexpected entry {member.name!r}")
            if hasattr(tarfile, "data_filter"):  # refuses links and odd modes too
                archive.extractall(run.project.root, members=members, filter="data")
            else:
                archive.extractall(run.project.root, members=members)
        for label in folders:
            run.django.forget_migration_modules([label])

    run.actions.do(f"restore the migration files of {', '.join(folders)} from {backup.id}", extract)
