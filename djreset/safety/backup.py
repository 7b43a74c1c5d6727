"""Backups: everything a reset may destroy, saved first, and put back on demand.

A backup is a private folder (0700, files 0600) ``<backup_dir>/<timestamp>-<env>/`` with:

* ``files.tar.gz``: the listed apps' migrations folders exactly (files, folders
  and links, a link stored as a link; no __pycache__);
* ``history-<alias>.json``: every row of django_migrations, ids included;
* ``database-<alias>.*``: an engine dump, checked against the live database
  (tables and row counts, and that the admin may load it back) before anything
  is dropped;
* ``manifest.json``: what is in it, written last, so a backup without a
  complete manifest is never used.

Putting one back (:func:`put_back`) reads and checks the whole archive before
it changes anything, and changes only what differs: the listed apps' rows of
django_migrations (other apps' rows stay as they are now), the migration
folders, and the databases in its scope.
"""
from __future__ import annotations

import json
import os
import shutil
import tarfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from djreset import __version__, measure, state
from djreset.safety import faults
from djreset.bridge import history
from djreset.bridge.packages import migration_files, own_apps
from djreset.errors import DjresetError, Refused, SessionsOpen, StepFailed
from djreset.state import MANIFEST, Backup

if TYPE_CHECKING:
    from djreset.run import Run

FILES_ARCHIVE = "files.tar.gz"


# -- the migration folders -----------------------------------------------------------


def _listed_folders(run: "Run") -> tuple[dict[str, Path], dict[str, Path]]:
    """(label → migrations folder, label → where it would be) of the listed apps."""
    present, absent = {}, {}
    for label in run.apps:
        package = run.django.migrations_package(label)
        if package.directory is not None:
            present[label] = package.directory
        else:
            absent[label] = Path(run.django.app_config(label).path) / "migrations"
    return present, absent


def migration_folders(run: "Run") -> dict[str, Any]:
    """For the journal, at the start of a run: the project's other migration
    folders as they are (a makemigrations may write there too), and the
    folders that do not exist yet.  The listed apps' folders are in the backup."""
    _, absent = _listed_folders(run)
    watched: dict[str, list[str]] = {}
    for label in own_apps(run.project.root):
        if label in run.apps:
            continue
        try:
            directory = run.django.migrations_package(label).directory
        except DjresetError:
            continue  # not a folder djreset would ever write into
        if directory is None:
            absent[label] = Path(run.django.app_config(label).path) / "migrations"
        else:
            watched[run.relative(directory)] = sorted(path.name for path in migration_files(directory))
    return {"watched": watched, "absent": sorted({run.relative(path) for path in absent.values()})}


# -- making one ----------------------------------------------------------------


def _new_folder(run: "Run") -> Path:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    state.private_dir(run.project.backup_dir)
    folder = run.project.backup_dir / f"{stamp}-{run.env.name}"
    suffix = 1
    while folder.exists():  # two backups in one second
        suffix += 1
        folder = run.project.backup_dir / f"{stamp}-{run.env.name}-{suffix}"
    folder.mkdir(mode=0o700)
    return folder


def _entries(directory: Path) -> list[Path]:
    """Everything in a migrations folder, folders before their contents; links
    are entries (never followed); __pycache__ is not."""
    found = [directory]
    for parent, folders, files in os.walk(directory):
        folders[:] = sorted(name for name in folders if name != "__pycache__")
        base = Path(parent)
        found += [base / name for name in folders]
        found += [base / name for name in sorted(files)]
    return found


def _archive_files(run: "Run", folder: Path) -> dict[str, str]:
    """Tar the listed apps' migrations folders; return label → folder (relative)."""
    folders: dict[str, str] = {}
    present, _ = _listed_folders(run)
    # Level 1: migration files compress well anyway, and this runs before every reset.
    with tarfile.open(folder / FILES_ARCHIVE, "w:gz", compresslevel=1) as archive:
        for label, directory in present.items():
            relative = directory.relative_to(run.project.root.resolve())
            folders[label] = str(relative)
            for path in _entries(directory):
                if path.is_symlink() or path.is_file() or path.is_dir():
                    archive.add(path, arcname=str(relative / path.relative_to(directory)), recursive=False)
    return folders


def _dump(run: "Run", alias: str, folder: Path) -> dict[str, Any]:
    engine = run.engine(alias)
    run.django.close_connections()
    with run.out.progress(f"dumping database {alias}", log=False):
        dump = engine.backup(folder)
    target = dump.with_name(f"database-{alias}{''.join(dump.suffixes)}")
    dump.rename(target)
    checked = engine.check_dump(target, run.django.quote_name(alias))
    run.out.info(f"dump of {alias} checked: {checked}")
    return {"engine": engine.name, "dump": target.name, "facts": engine.remember_before_drop(), "server": engine.server_facts()}


def create(run: "Run", *, with_database: bool, reason: str = "manual") -> Backup:
    """Back up files, history and (optionally) the databases; print where."""
    folder = _new_folder(run)
    try:
        with state.private_files():
            manifest = _write(run, folder, with_database, reason)
    except BaseException as exc:
        shutil.rmtree(folder, ignore_errors=True)  # never a half backup that looks whole
        if isinstance(exc, OSError):
            raise StepFailed(f"cannot write the backup into {folder.parent}: {exc.strerror or exc}") from None
        raise
    backup = Backup(folder, manifest)
    run.out.info(f"backup {backup.describe()}")
    run.out.info(f"    in {folder}")
    return backup


def _write(run: "Run", folder: Path, with_database: bool, reason: str) -> dict[str, Any]:
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
        "absent_databases": [],
        "measurements": measure.cheap(run),
    }
    for alias in run.aliases:
        if not run.engine(alias).exists():
            manifest["absent_databases"].append(alias)  # undoing a run that creates it means dropping it
            continue
        rows = history.all_rows(run.django, alias)
        if rows is not None:
            (folder / f"history-{alias}.json").write_text(json.dumps(rows, indent=1))
            manifest["history"][alias] = len(rows)
        if with_database:
            manifest["databases"][alias] = _dump(run, alias, folder)
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2))
    return manifest


def _ignore_in_git(folder: Path) -> None:
    """Backups hold data: keep them out of commits even without a .gitignore entry."""
    marker = folder / ".gitignore"
    if not marker.exists():
        marker.write_text("*\n")


# -- reading one back, whole, before anything changes ------------------------------------


@dataclass(frozen=True)
class Entry:
    name: str  # relative to the project root
    kind: str  # "dir", "file" or "link"
    mode: int = 0o644
    data: bytes = b""
    target: str = ""  # a link's target, as it was written


def read_archive(backup: Backup) -> list[Entry]:
    """Every entry of the files archive, checked: inside a listed app's folder, a
    file, folder or link.  A damaged or odd archive is refused here, whole."""
    path = backup.folder / FILES_ARCHIVE
    folders = [PurePosixPath(relative) for relative in backup.manifest.get("files", {}).values()]
    entries = []
    try:
        with tarfile.open(path) as archive:
            for member in archive:
                name = PurePosixPath(member.name)
                if name.is_absolute() or ".." in name.parts or not any(name == f or f in name.parents for f in folders):
                    raise Refused(f"backup archive {path} holds {member.name!r}, outside the listed apps' migration folders")
                if member.isdir():
                    entries.append(Entry(member.name, "dir", member.mode & 0o777))
                elif member.issym():
                    entries.append(Entry(member.name, "link", target=member.linkname))
                elif member.isfile():
                    handle = archive.extractfile(member)
                    entries.append(Entry(member.name, "file", member.mode & 0o777, handle.read() if handle else b""))
                else:
                    raise Refused(f"backup archive {path} holds {member.name!r}, which is not a file, a folder or a link")
    except (OSError, tarfile.TarError, EOFError) as exc:
        raise Refused(f"backup archive {path} cannot be read whole ({exc}); nothing was changed") from None
    return entries


def check(run: "Run", backup: Backup) -> list[Entry]:
    """Everything that can refuse a backup, before any of it is put back."""
    if backup.manifest["apps"] != list(run.apps):
        raise Refused(f"backup {backup.id} was made for apps {backup.manifest['apps']}, reset.yaml now lists {list(run.apps)}")
    for alias, saved in backup.manifest.get("databases", {}).items():
        dump = backup.folder / saved["dump"]
        if not dump.is_file():
            raise Refused(f"backup {backup.id} has lost its dump {dump.name}; nothing was changed")
        run.engine(alias).check_loadable(dump)
    return read_archive(backup)


# -- putting one back ------------------------------------------------------------


@dataclass
class Scope:
    """What to put back.  Everything a backup holds (a restore), or only what one
    run changed (its rollback): its databases, and the folders it may have written."""

    # alias → may end other sessions.  None: every database the backup has a dump of.
    databases: dict[str, bool] | None = None
    # The journal's migration_folders() of the run being undone, if any.
    folders: dict[str, Any] = field(default_factory=dict)


def put_back(run: "Run", backup: Backup, scope: Scope, entries: list[Entry]) -> list[str]:
    """Databases, then the listed apps' history rows, then files; return what was put back."""
    done: list[str] = []
    manifest = backup.manifest
    databases = scope.databases if scope.databases is not None else {alias: False for alias in manifest.get("databases", {})}
    run.django.close_connections()
    for alias, force in databases.items():
        done += _put_back_database(run, backup, alias, force)
    run.django.close_connections()
    faults.point("inside:put-back")  # databases back, history and files not yet
    dumped = manifest.get("databases", {})
    for alias in manifest.get("history", {}):
        if alias in databases and alias in dumped:
            continue  # the dump brought the history back already
        rows = json.loads((backup.folder / f"history-{alias}.json").read_text())
        if _put_back_history(run, alias, rows):
            done.append(f"the django_migrations rows of {', '.join(run.apps)} on {alias}")
    if _put_back_files(run, backup, entries, scope.folders):
        done.append("the migration files")
    if _put_back_reset_history(run, backup):
        done.append(state.RESET_HISTORY)
    return done


def _put_back_database(run: "Run", backup: Backup, alias: str, force: bool) -> list[str]:
    engine = run.engine(alias)
    saved = backup.manifest.get("databases", {}).get(alias)
    if saved:
        engine.recreate_with(saved.get("facts", {}))
        try:
            with run.out.progress(f"restoring database {alias}", log=False):
                engine.restore(run.actions, backup.folder / saved["dump"], force=force)
        except SessionsOpen as refused:  # restore's own switch, not drop-db's
            raise refused.fix(f"run `djreset restore --env {run.env.name} --force`") from None
        return [f"database {alias} from its dump"]
    if alias in backup.manifest.get("absent_databases", []):
        if engine.exists():
            engine.drop(run.actions, if_exists=True, force=force)
            return [f"database {alias} dropped (it did not exist before)"]
        return []
    # No dump to go back to, ever: say so, and why, and do not pretend (nor block every later run on it).
    run.out.warn(f"database {alias} was changed by the run and cannot be put back: backup {backup.id} has no dump of it ({_why_no_dump(run, backup)})")
    return []


def _why_no_dump(run: "Run", backup: Backup) -> str:
    if not run.project.dump_database:
        return "backups.dump_database is false in reset.yaml"
    if str(backup.manifest.get("reason", "")).startswith("before "):  # the automatic backup's reasons
        return "the recipe was not expected to change it"
    return f"it was made by a backup step without database: true ({backup.manifest.get('reason')!r})"


def _put_back_history(run: "Run", alias: str, rows: list[dict[str, Any]]) -> bool:
    """The listed apps' rows as saved, if they differ; other apps' rows stay as they are now."""
    if not run.engine(alias).exists():
        return False
    saved = [row for row in rows if row["app"] in run.apps]
    if history.listed_rows(run.django, alias, run.apps) == saved:
        return False
    run.actions.do(
        f"restore the {len(saved)} django_migrations rows of {', '.join(run.apps)} on {alias} (other apps' rows stay)",
        lambda: history.replace_rows(run.django, alias, run.apps, saved),
    )
    return True


def _put_back_reset_history(run: "Run", backup: Backup) -> bool:
    saved, path = backup.manifest.get("marker"), state.reset_history_path(run.project)
    changed = False
    if saved is None:
        if path.exists():
            run.actions.do(f"delete {run.relative(path)} (it did not exist before)", path.unlink)
            changed = True
    elif not path.is_file() or path.read_text() != saved:
        run.actions.do(f"restore {run.relative(path)}", lambda: path.write_text(saved))
        changed = True
    # Kept data migrations staged by an interrupted clean-files are stale now.
    if not run.actions.dry:
        state.forget_pending(run.project)
    return changed


# -- files -----------------------------------------------------------------------------------


def _inside_project(run: "Run", relative: str) -> Path:
    path = run.project.root / relative
    root = run.project.root.resolve()
    if root not in path.resolve().parents:
        raise Refused(f"{relative} now leads outside the project ({path.resolve()}); djreset will not write there")
    return path


def _put_back_files(run: "Run", backup: Backup, entries: list[Entry], folders: dict[str, Any]) -> bool:
    """Each folder as it was: only what differs is written or deleted."""
    changed = False
    by_folder = backup.manifest.get("files", {})
    for relative in by_folder.values():
        directory = _inside_project(run, relative)
        mine = [entry for entry in entries if entry.name == relative or entry.name.startswith(relative + "/")]
        changed |= _restore_folder(run, directory, mine)
    for relative, names in folders.get("watched", {}).items():
        directory = run.project.root / relative
        if directory.is_dir():
            extra = [path for path in migration_files(directory) if path.name not in names]
            for path in extra:
                run.actions.do(f"delete {run.relative(path)} (written by the run)", path.unlink)
            changed |= bool(extra)
    for relative in folders.get("absent", []):
        changed |= _remove_new_folder(run, run.project.root / relative)
    run.django.forget_migration_modules(run.apps)
    return changed


def _restore_folder(run: "Run", directory: Path, entries: list[Entry]) -> bool:
    root = run.project.root
    wanted = {root / entry.name for entry in entries}
    changed = False
    if directory.is_dir():
        for path in migration_files(directory):
            if path not in wanted:
                run.actions.do(f"delete {run.relative(path)}", path.unlink)
                changed = True
        cache = directory / "__pycache__"
        if cache.is_dir():
            run.actions.do(f"delete {run.relative(cache)}/", lambda: shutil.rmtree(cache))
    for entry in entries:
        changed |= _restore_entry(run, root / entry.name, entry)
    return changed


def _same(path: Path, entry: Entry) -> bool:
    if entry.kind == "link":
        return path.is_symlink() and os.readlink(path) == entry.target
    if path.is_symlink():
        return False
    if entry.kind == "dir":
        return path.is_dir()
    return path.is_file() and path.read_bytes() == entry.data


def _restore_entry(run: "Run", path: Path, entry: Entry) -> bool:
    if _same(path, entry):
        return False

    def put() -> None:
        if path.is_symlink() or path.is_file():
            path.unlink()
        elif path.is_dir() and entry.kind != "dir":
            raise Refused(f"{run.relative(path)} is now a folder; the backup has a {entry.kind} there")
        if entry.kind == "dir":
            path.mkdir(mode=entry.mode or 0o755)
        elif entry.kind == "link":
            os.symlink(entry.target, path)  # as it was, wherever it points: never followed
        else:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, entry.mode or 0o644)
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(entry.data)

    what = {"dir": "folder", "link": f"link -> {entry.target}", "file": "file"}[entry.kind]
    run.actions.do(f"restore {run.relative(path)} ({what})", put)
    return True


def _remove_new_folder(run: "Run", directory: Path) -> bool:
    """A migrations folder the run created: its migration modules, __init__.py and
    caches go; the folder too, if nothing else is in it."""
    if not directory.is_dir() or directory.is_symlink():
        return False
    doomed = [*migration_files(directory), *(p for p in (directory / "__init__.py",) if p.is_file())]
    for path in doomed:
        run.actions.do(f"delete {run.relative(path)} (written by the run)", path.unlink)
    cache = directory / "__pycache__"
    if cache.is_dir():
        run.actions.do(f"delete {run.relative(cache)}/", lambda: shutil.rmtree(cache))
    if not run.actions.dry and not any(directory.iterdir()):
        run.actions.do(f"delete {run.relative(directory)}/ (made by the run)", directory.rmdir)
    return bool(doomed)
