"""SQLite: the database is a file, plus its -wal, -shm and -journal side files."""
from __future__ import annotations

import re
import shutil
import sqlite3
import tempfile
from contextlib import closing
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from djreset.actions import Change
from djreset.engines.base import Engine, HistoryLock
from djreset.engines.catalog import Quote
from djreset.engines.catalog.sqlite import SQLiteCatalog
from djreset.engines.spec import DatabaseSpec
from djreset.errors import ConfigError, StepFailed

if TYPE_CHECKING:
    from djreset.actions import Actions

SIDE_FILES = ("-wal", "-shm", "-journal")
SCRATCH_FOLDER = "djreset-scratch-"  # in the temp folder, one per scratch database
# Names as written in reset.yaml: a relative or absolute path of plain characters.
SAFE_PATH = re.compile(r"^[A-Za-z0-9_./-]+$")


class SQLiteEngine(Engine):
    name = "sqlite"
    aliases = ("sqlite3",)
    django_backends = ("django.db.backends.sqlite3", "django.contrib.gis.db.backends.spatialite")
    backend_suffixes = (".sqlite3",)
    file_based = True

    @classmethod
    def check_name(cls, name: str) -> str | None:
        if name == ":memory:" or name.startswith("file:") or "mode=memory" in name:
            return "an in-memory SQLite database cannot be reset (it vanishes with the process)"
        if not SAFE_PATH.match(name):
            return f"{name!r}: SQLite paths may use letters, digits, '_', '-', '.' and '/' only"
        return None

    @classmethod
    def from_django(cls, alias: str, settings_dict: dict) -> "SQLiteEngine":
        name = str(settings_dict.get("NAME") or "")
        problem = cls.check_name(name) if name in (":memory:", "") or name.startswith("file:") else None
        if problem or not name:
            raise ConfigError(f"DATABASES[{alias!r}]: {problem or 'no NAME'}")
        return cls(DatabaseSpec(alias=alias, engine=cls.name, name=str(Path(name).resolve()), options=settings_dict.get("OPTIONS") or {}))

    @property
    def path(self) -> Path:
        return Path(self.spec.name)

    def files(self) -> list[Path]:
        return [self.path, *(Path(f"{self.path}{suffix}") for suffix in SIDE_FILES)]

    def describe(self) -> str:
        return f"sqlite {self.path}"

    def django_settings(self) -> dict[str, Any]:
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": str(self.path), "OPTIONS": dict(self.spec.options)}

    @property
    def display_name(self) -> str:
        return self.path.name

    def draft_block(self, root: Path) -> dict[str, object]:
        try:
            name = str(self.path.relative_to(root))
        except ValueError:
            name = str(self.path)
        return {"engine": self.name, "name": name}

    def exists(self) -> bool:
        return self.path.exists()

    def drop(self, actions: "Actions", *, if_exists: bool = True, force: bool = False) -> None:
        present = [path for path in self.files() if path.exists()]
        if not present:
            if not if_exists:
                raise StepFailed(f"{self.path} does not exist (set if_exists: true to accept that)")
            actions.note(f"{self.path} does not exist; nothing to drop")
            return
        change = Change(self.alias, "dropped")
        for path in present:
            actions.do(f"delete {path}", path.unlink, change=change)

    def create(self, actions: "Actions", *, if_not_exists: bool = False, exists: bool | None = None) -> None:
        if self.exists() if exists is None else exists:
            if if_not_exists:
                actions.note(f"{self.path} already exists")
                return
            raise StepFailed(f"{self.path} already exists: run drop-db first, or set if_not_exists: true")

        def create_file() -> None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with closing(sqlite3.connect(self.path)) as connection:
                # An empty file is a valid database; writing the header makes
                # it one SQLite recognises without Django's help.
                connection.execute("PRAGMA user_version = 0")
                connection.commit()

        actions.do(f"create empty database {self.path}", create_file, change=Change(self.alias, "created"))

    def backup(self, folder: Path) -> Path:
        """The online backup API: consistent even while another process writes."""
        target = folder / "database.sqlite3"
        try:
            with closing(sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)) as source:
                with closing(sqlite3.connect(target)) as copy:
                    source.backup(copy)
        except sqlite3.Error as exc:  # a full disk, say
            raise StepFailed(f"cannot back up {self.path} into {target}: {exc}") from None
        return target

    def restore(self, actions: "Actions", dump: Path, *, force: bool = False) -> None:
        def copy_back() -> None:
            for path in self.files():
                path.unlink(missing_ok=True)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with closing(sqlite3.connect(f"file:{dump}?mode=ro", uri=True)) as source:
                with closing(sqlite3.connect(self.path)) as target:
                    source.backup(target)

        actions.do(f"restore {self.path} from {dump}", copy_back, change=Change(self.alias, "loaded"))

    def contents(self, quote: Quote, dump: Path | None = None) -> dict[str, int]:
        with closing(sqlite3.connect(f"file:{dump or self.path}?mode=ro", uri=True)) as db:
            tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT GLOB 'sqlite_*'")]
            return {table: db.execute(f"SELECT COUNT(*) FROM {quote(table)}").fetchone()[0] for table in tables}

    def catalog(self) -> SQLiteCatalog:
        return SQLiteCatalog()

    def history_lock(self) -> HistoryLock:
        return HistoryLock(immediate=True)  # BEGIN IMMEDIATE: one writer at a time, the other waits

    def scratch(self, tag: str, leave_out: Iterable[str] = ()) -> "SQLiteEngine":
        folder = Path(tempfile.gettempdir()) / f"{SCRATCH_FOLDER}{tag}"
        return self.scratch_named(str(folder / "scratch.sqlite3"))

    def scratch_named(self, name: str) -> "SQLiteEngine":
        if not Path(name).parent.name.startswith(SCRATCH_FOLDER):
            raise StepFailed(f"{name!r} is not a scratch database")
        return SQLiteEngine(replace(self.spec, name=name))

    def discard(self, actions: "Actions") -> None:
        folder = self.path.parent
        actions.do(f"delete {folder}", lambda: shutil.rmtree(folder, ignore_errors=True))

    def server_key(self) -> str:
        return f"sqlite@{tempfile.gettempdir()}"
