"""Every file djreset keeps in a project, read and written here.

Next to reset.yaml (committed with the new migration files):

* ``reset-history.json``: which migrations a reset replaced, and the new ones.
  Deploy-time ``check-applied`` reads it to tell, from ``django_migrations``
  alone, whether an environment still has to be switched to the new history.

Under ``.djreset/`` in the project root (never committed: djreset puts a
``.gitignore`` in it the first time it writes there, so ``git status`` stays clean):

* ``journal.json`` and ``lock``: runs cut short, and one run at a time (safety/);
* ``pending.json``: the new migrations and kept data migrations, from clean-files to makemigrations;
* ``dropped/*.json``: facts about a dropped database, from drop-db to create-db;
* ``measurements/``: what ``djreset measure`` found;
* ``scratch/*.json``: scratch databases in use, each locked by the run that made it;
* ``backups/`` (or ``backups.dir``): one folder per backup, see :class:`Backup`.
"""
from __future__ import annotations

import fcntl
import json
import os
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

from djreset import __version__
from djreset.errors import ConfigError, Refused

if TYPE_CHECKING:
    from djreset.config import Project

RESET_HISTORY = "reset-history.json"
MANIFEST = "manifest.json"


# -- reset-history.json --------------------------------------------------------------


def reset_history_path(project: "Project") -> Path:
    return project.base_dir / RESET_HISTORY


def load_reset_history(project: "Project") -> dict[str, Any] | None:
    file = reset_history_path(project)
    return json.loads(file.read_text()) if file.is_file() else None


def reset_apps(project: "Project") -> dict[str, dict[str, list[str]]]:
    """Per app reset so far: {"replaced": [...], "new": [...]}."""
    return (load_reset_history(project) or {}).get("apps", {})


def _save_reset_history(project: "Project", data: dict[str, Any]) -> None:
    data["djreset"] = __version__
    reset_history_path(project).write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def record_replaced(project: "Project", app: str, names: list[str], kept: list[str] | None = None) -> None:
    """clean-files: these migrations of ``app`` are being replaced (and, a partial reset, these kept)."""
    data = load_reset_history(project) or {"apps": {}}
    data["reset_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    data["apps"][app] = {"replaced": sorted(names), "new": []}
    if kept:
        data["apps"][app]["kept"] = sorted(kept)
    _save_reset_history(project, data)


def record_new(project: "Project", app: str, names: list[str]) -> None:
    """makemigrations: these are the migrations that replace them."""
    data = load_reset_history(project) or {"apps": {}}
    entry = data["apps"].setdefault(app, {"replaced": [], "new": []})
    entry["new"] = sorted(names)
    _save_reset_history(project, data)


# -- .djreset/ -------------------------------------------------------------------------
# Private to the user running djreset: backups hold a copy of the data (password
# hashes included), the journal names databases.  Folders 0700, files 0600.


@contextmanager
def private_files() -> Iterator[None]:
    """Everything created inside (by djreset or a dump client it starts) is the user's only."""
    previous = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(previous)


def private_dir(path: Path) -> Path:
    """``path`` and the folders made for it, 0700 (also when an older djreset made them 0755)."""
    with private_files():
        path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o700)
    return path


def write_private(path: Path, text: str) -> None:
    """Write a 0600 file atomically (a kill leaves the old one or the new one, never half)."""
    private_dir(path.parent)
    temporary = path.with_name(path.name + ".tmp")
    with private_files():
        temporary.write_text(text)
    os.replace(temporary, path)



def state_dir(project: "Project") -> Path:
    """``.djreset/``, made on first use, with a .gitignore that keeps all of it out of git."""
    folder = private_dir(project.state_dir)
    ignore = folder / ".gitignore"
    if not ignore.exists():
        with private_files():
            ignore.write_text("# djreset's own files: journal, lock, backups, measurements\n*\n")
    return folder


def journal_path(project: "Project") -> Path:
    return project.state_dir / "journal.json"


def lock_path(project: "Project", make: bool = True) -> Path:
    """Taken by every run that changes something: it makes .djreset/ (and its .gitignore);
    ``make=False`` to look at it without making anything."""
    return (state_dir(project) if make else project.state_dir) / "lock"


def pending_path(project: "Project") -> Path:
    """The new migrations and kept data migrations, saved by clean-files for makemigrations."""
    return project.state_dir / "pending.json"


def save_pending(project: "Project", pending: dict[str, Any]) -> None:
    state_dir(project)
    write_private(pending_path(project), json.dumps(pending))


def load_pending(project: "Project") -> dict[str, Any] | None:
    path = pending_path(project)
    return json.loads(path.read_text()) if path.is_file() else None


def forget_pending(project: "Project") -> None:
    pending_path(project).unlink(missing_ok=True)


def dropped_facts_path(project: "Project", engine: str, alias: str, name: str) -> Path:
    """Where drop-db leaves what create-db should bring back (they may run apart)."""
    return project.state_dir / "dropped" / f"{engine}-{alias}-{Path(name).name}.json"


def measurements_dir(project: "Project") -> Path:
    return project.state_dir / "measurements"


def saved_measurements(project: "Project", env: str) -> list[dict[str, Any]]:
    folder = measurements_dir(project)
    if not folder.is_dir():
        return []
    return sorted((json.loads(p.read_text()) for p in folder.glob(f"{env}-*.json")), key=lambda m: m["at"])


def save_measurement(project: "Project", env: str, numbers: dict[str, Any]) -> None:
    state_dir(project)
    write_private(measurements_dir(project) / f"{env}-{numbers['at'].replace(':', '')}.json", json.dumps(numbers, indent=2))


# -- scratch databases -------------------------------------------------------------------


def scratch_dir(project: "Project") -> Path:
    return project.state_dir / "scratch"


@contextmanager
def scratch_claim(project: "Project", entry: dict[str, Any]) -> Iterator[Callable[[], None]]:
    """Hold ``.djreset/scratch/<tag>.json`` (an flock) while a scratch database exists.

    Yields a function to call once the database is created.  The kernel
    releases the flock when the process dies, so a later run can tell a
    scratch database whose run was killed from one still in use.
    """
    made = not project.state_dir.exists()
    folder = private_dir(scratch_dir(project))
    ignore = folder / ".gitignore"  # a claim a killed run leaves stays out of git status
    if not ignore.exists():
        with private_files():
            ignore.write_text("*\n")
    path = folder / f"{entry['tag']}.json"
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)

        def write(**more: Any) -> None:
            handle.seek(0)
            handle.truncate()
            handle.write(json.dumps({**entry, **more}))
            handle.flush()

        write(created=False)
        try:
            yield lambda: write(created=True)
        finally:
            path.unlink(missing_ok=True)
            _tidy_scratch(folder, project.state_dir if made else None)


def _tidy_scratch(folder: Path, made: Path | None) -> None:
    """A dry run leaves no trace: the scratch folder goes with its last claim
    (and .djreset/ too when this run made it)."""
    if any(folder.glob("*.json")):
        return
    try:
        (folder / ".gitignore").unlink(missing_ok=True)
        folder.rmdir()
        if made is not None:
            made.rmdir()
    except OSError:
        pass  # another run's claim arrived, or .djreset/ holds other files: they stay


def abandoned_scratch(project: "Project") -> list[tuple[dict[str, Any], Callable[[], None]]]:
    """Scratch databases of runs that are gone: (entry, forget).  Files another
    live process holds are skipped; ``forget`` removes the file once its database is gone."""
    folder = scratch_dir(project)
    found = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        with open(path, "a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # its run is still going
            handle.seek(0)
            try:
                entry = json.loads(handle.read() or "{}")
            except ValueError:
                entry = {}
        if not entry:
            continue  # being written by a run that has not locked it yet
        found.append((entry, lambda path=path: path.unlink(missing_ok=True)))
    return found


# -- backups -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Backup:
    """A complete backup: its folder and its manifest (written last)."""

    folder: Path
    manifest: dict[str, Any]

    @property
    def id(self) -> str:
        return self.folder.name

    def describe(self) -> str:
        parts = ["files"] if self.manifest.get("files") else []
        parts += [f"history:{alias}" for alias in self.manifest.get("history", {})]
        parts += [f"database:{alias}" for alias in self.manifest.get("databases", {})]
        reason = self.manifest.get("reason", "manual")
        return f"{self.id}  {reason:<15}  ({', '.join(parts) or 'empty'})"


def all_backups(project: "Project") -> list[Backup]:
    """Complete backups, oldest first."""
    found = []
    if project.backup_dir.is_dir():
        for folder in sorted(project.backup_dir.iterdir()):
            manifest = folder / MANIFEST
            if manifest.is_file():
                found.append(Backup(folder, json.loads(manifest.read_text())))
    return found


def find_backup(project: "Project", backup_id: str | None, env: str, exclude: Backup | None = None) -> Backup:
    """The backup named ``backup_id``, or the latest of ``env`` (not ``exclude``)."""
    backups = [backup for backup in all_backups(project) if exclude is None or backup.id != exclude.id]
    if backup_id:
        for backup in backups:
            if backup.id == backup_id:
                return backup
        raise ConfigError(f"no backup {backup_id!r} in {project.backup_dir} (see `djreset backups`)")
    # Undo the last reset: a backup taken just before a restore is only chosen by name.
    mine = [b for b in backups if b.manifest["env"] == env and b.manifest.get("reason") != "before restore"]
    if not mine:
        raise Refused(f"no backups of environment {env!r} in {project.backup_dir}")
    return mine[-1]
