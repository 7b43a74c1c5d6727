"""The engine interface every database class implements."""
from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Iterable

from djreset.engines import catalog
from djreset.engines.spec import DatabaseSpec
from djreset.errors import ConfigError, StepFailed
from djreset.secrets import Secret

if TYPE_CHECKING:
    from djreset.actions import Actions

# Seconds any statement djreset sends waits for another session's lock (the
# servers' own defaults are a day, or a year); reset.yaml's lock_timeout.
DEFAULT_LOCK_TIMEOUT = 30

# Server database names djreset accepts: they need no quoting anywhere, in SQL,
# in a shell or in a file name.  Identifiers are still quoted by the driver.
SERVER_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]*$")
# Scratch databases: a fixed prefix, then the whole random tag, then as much of
# the live name as fits.  The tag is never cut, so a scratch name can neither
# equal the live name nor another run's scratch.
SCRATCH_PREFIX = "djrs_"


def scratch_name(base: str, tag: str, max_length: int) -> str:
    head = f"{SCRATCH_PREFIX}{tag}_"
    return head + base[: max(0, max_length - len(head))]


def check_server_name(name: str, max_length: int) -> str | None:
    if not SERVER_NAME.match(name):
        return f"{name!r}: database names may use ASCII letters, digits, '_' and '-' only"
    if len(name) > max_length:
        return f"{name!r}: longer than {max_length} characters"
    return None


@dataclass(frozen=True)
class HistoryLock:
    """How a database keeps two runs from rewriting django_migrations at once (two
    machines deploying to one database): statements run on Django's connection
    before the transaction (each must answer 1), first inside it, and after it; or
    a transaction that takes the write lock when it begins (SQLite's BEGIN IMMEDIATE)."""

    before: tuple[tuple[str, tuple[Any, ...]], ...] = ()
    first: tuple[tuple[str, tuple[Any, ...]], ...] = ()
    after: tuple[tuple[str, tuple[Any, ...]], ...] = ()
    immediate: bool = False


class Engine(ABC):
    name: ClassVar[str]
    aliases: ClassVar[tuple[str, ...]] = ()
    # Django ENGINE values that mean this engine (plus suffixes for wrappers
    # such as django-prometheus or PostGIS backends).
    django_backends: ClassVar[tuple[str, ...]] = ()
    backend_suffixes: ClassVar[tuple[str, ...]] = ()
    # The database is a file named by a path (relative to reset.yaml).
    file_based: ClassVar[bool] = False
    # Keys this engine accepts in a reset.yaml database block, with their types.
    settings_keys: ClassVar[dict[str, type]] = {}

    def __init__(self, spec: DatabaseSpec):
        self.spec = spec

    # OPTIONS that would make a connection read settings from somewhere else
    # (an option file, a service file): djreset's connections and its dump
    # clients must all reach the same server as the same user.
    refused_options: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def check_name(cls, name: str) -> str | None:
        """Why ``name`` is refused as a database name, or None if it is fine."""
        return None

    @classmethod
    def refused_option(cls, key: str) -> str | None:
        if key not in cls.refused_options:
            return None
        return (f"{key} is refused: djreset connects with reset.yaml's own host, port and user only "
                "(an option or service file could send its dumps and drops to different servers); write them here instead")

    @classmethod
    @abstractmethod
    def from_django(cls, alias: str, settings_dict: dict) -> "Engine":
        """An engine for a DATABASES entry of the project's settings."""

    @property
    def alias(self) -> str:
        return self.spec.alias

    @abstractmethod
    def describe(self) -> str:
        """Engine, host and name, for the user; never the password."""

    @abstractmethod
    def django_settings(self) -> dict[str, Any]:
        """The DATABASES entry that makes Django use this database."""

    def admin_django_settings(self) -> dict[str, Any]:
        """The DATABASES entry with the admin's credentials (scratch databases are the admin's)."""
        return self.django_settings()

    @property
    def display_name(self) -> str:
        """The database's name as a user would type it at a prompt."""
        return self.spec.name

    def draft_block(self, root: Path) -> dict[str, object]:
        """This database as a reset.yaml block for ``djreset init`` (no password values)."""
        return {"engine": self.name, "name": self.spec.name}

    @abstractmethod
    def exists(self) -> bool: ...

    @abstractmethod
    def drop(self, actions: "Actions", *, if_exists: bool = True, force: bool = False) -> None: ...

    @abstractmethod
    def create(self, actions: "Actions", *, if_not_exists: bool = False, exists: bool | None = None) -> None:
        """Create the database empty.  ``exists`` overrides the check (a dry
        run that has just "dropped" it knows better than the server)."""

    @abstractmethod
    def backup(self, folder: Path) -> Path:
        """Dump the whole database into ``folder``; return the dump's path."""

    @abstractmethod
    def restore(self, actions: "Actions", dump: Path, *, force: bool = False) -> None:
        """Replace the database with the dump made by :meth:`backup` (``force``:
        end other sessions on it first, else refuse while there are any)."""

    # -- proving a dump before anything is dropped --------------------------------

    @abstractmethod
    def contents(self, quote: "catalog.Quote", dump: Path | None = None) -> dict[str, int]:
        """Table → rows: of ``dump``, or of the live database (``quote``: Django's
        identifier quoting, where the driver has none)."""

    def check_dump(self, dump: Path, quote: "catalog.Quote") -> str:
        """Refuse a dump that does not hold the live database (a table or rows left
        out, another server's data), or that the admin could not load back."""
        dumped, live = self.contents(quote, dump), self.contents(quote)
        problems = [f"table {table} is missing" for table in sorted(set(live) - set(dumped))]
        problems += [f"table {table} is not in the live database" for table in sorted(set(dumped) - set(live))]
        problems += [f"{table} has {dumped[table]} rows, {live[table]} live" for table in sorted(set(live) & set(dumped)) if dumped[table] != live[table]]
        if problems:
            raise StepFailed(
                f"the dump of {self.display_name} does not match the live database ({'; '.join(problems[:5])}"
                f"{'; ...' if len(problems) > 5 else ''}): another session may be writing to it; djreset stops before anything is dropped"
            )
        self.check_loadable(dump)
        return f"{len(live)} tables and {sum(live.values())} rows, as in the live database"

    def check_loadable(self, dump: Path) -> None:
        """Refuse, before anything is dropped, a dump the admin may not load back."""
        return None  # a file copy (SQLite) loads back whoever made it

    def server_facts(self) -> dict[str, Any]:
        """Where the dump came from (host, port, user), for the backup's manifest."""
        return {}

    # -- statements djreset sends ---------------------------------------------------

    @property
    def lock_timeout(self) -> int:
        return int(self.spec.extra.get("lock_timeout") or DEFAULT_LOCK_TIMEOUT)

    def session_statements(self) -> list[str]:
        """Run on each of Django's connections to this database: bounded lock waits."""
        return []

    def history_problem(self, table: str) -> str | None:
        """Why rewriting ``table`` (django_migrations) in place would not be all-or-nothing."""
        return None

    @abstractmethod
    def scratch(self, tag: str, leave_out: Iterable[str] = ()) -> "Engine":
        """An engine for a throwaway sibling database (same server, a new name
        with ``tag`` in it), created like the live one (charset, collation;
        its extensions but those in ``leave_out``)."""

    @abstractmethod
    def scratch_named(self, name: str) -> "Engine":
        """The engine of a scratch database made earlier (by a run that was killed)."""

    def discard(self, actions: "Actions") -> None:
        """Remove this scratch database and whatever it left behind."""
        self.drop(actions, if_exists=True, force=True)

    def server_key(self) -> str:
        """Where scratch siblings of this database live: a later run on the same
        server (or machine, for files) can remove those a killed run left."""
        return f"{self.name}@{getattr(self.spec, 'host', None) or ''}:{getattr(self.spec, 'port', None) or ''}"

    @abstractmethod
    def catalog(self) -> "catalog.Catalog":
        """The reader of this database's schema catalog (what verify compares)."""

    @abstractmethod
    def history_lock(self) -> HistoryLock:
        """The database-level lock rewrite-history and record-new hold while they re-read and write the history."""

    def is_local(self) -> bool:
        """On this machine (a file, a socket, or a loopback address)."""
        host = getattr(self.spec, "host", None) or ""
        return self.file_based or host in ("", "localhost", "127.0.0.1", "::1") or host.startswith("/")

    def remember_before_drop(self) -> dict[str, Any]:
        """Facts about the database that create-db should bring back."""
        return {}

    def recreate_with(self, facts: dict[str, Any]) -> None:  # noqa: B027 - optional hook, a no-op by default
        """Use facts saved by :meth:`remember_before_drop` when creating."""


class ServerEngine(Engine):
    """What the PostgreSQL and MySQL engines share: a named database on a
    server, app credentials for Django, admin credentials for drop/create."""

    max_name_length: ClassVar[int] = 63

    def __init__(self, spec: DatabaseSpec):
        # Refused here too: no caller can slip a name past the quoting.
        problem = self.check_name(spec.name)
        if problem:
            raise ConfigError(problem, spec.where)
        super().__init__(spec)
        self._facts: dict[str, Any] = {}

    @classmethod
    def check_name(cls, name: str) -> str | None:
        return check_server_name(name, cls.max_name_length)

    @classmethod
    def from_django(cls, alias: str, settings_dict: dict) -> "ServerEngine":
        for key in settings_dict.get("OPTIONS") or {}:
            problem = cls.refused_option(key)
            if problem:
                raise ConfigError(f"DATABASES[{alias!r}]['OPTIONS']: {problem} (give reset.yaml a database block)")
        password = settings_dict.get("PASSWORD") or None
        port = settings_dict.get("PORT") or None
        return cls(
            DatabaseSpec(
                alias=alias,
                engine=cls.name,
                name=str(settings_dict.get("NAME") or ""),
                user=settings_dict.get("USER") or None,
                password=Secret(password) if password else None,
                host=settings_dict.get("HOST") or None,
                port=int(port) if port else None,
                options=settings_dict.get("OPTIONS") or {},
            )
        )

    @property
    def admin_user(self) -> str | None:
        return self.spec.admin_user or self.spec.user

    @property
    def admin_password(self) -> str | None:
        return self.spec.admin_password if self.spec.admin_user else self.spec.password

    def recreate_with(self, facts: dict[str, Any]) -> None:
        self._facts = dict(facts)

    @abstractmethod
    def connect(self) -> Any:
        """A context manager: an autocommit admin connection to the server."""

    def exists(self) -> bool:
        with self.connect() as connection:
            return self._exists(connection)

    def restore(self, actions: "Actions", dump: Path, *, force: bool = False) -> None:
        self.drop(actions, if_exists=True, force=force)
        self.create(actions)
        self._load_dump(actions, dump)

    @abstractmethod
    def _load_dump(self, actions: "Actions", dump: Path) -> None:
        """Load a dump made by :meth:`backup` into the (new, empty) database."""

    @abstractmethod
    def _exists(self, connection: Any) -> bool:
        """Whether the database exists, asked on an admin connection."""

    @abstractmethod
    def _sessions(self, connection: Any) -> list[tuple]:
        """Other sessions on the database: (id, user, application, ...)."""

    @abstractmethod
    def _sessions_error(self, sessions: list[tuple]) -> Exception:
        """The error that refuses a drop while ``sessions`` are open."""

    def _sessions_to_end(self, connection: Any, actions: "Actions", if_exists: bool, force: bool) -> list[tuple] | None:
        """Before a drop: None if there is nothing to drop, else the other
        sessions (empty unless ``force``; without it, sessions are refused)."""
        if not self._exists(connection):
            if not if_exists:
                raise StepFailed(f"database {self.spec.name!r} does not exist (set if_exists: true to accept that)")
            actions.note(f"database {self.spec.name!r} does not exist; nothing to drop")
            return None
        sessions = self._sessions(connection)
        if sessions and not force:
            raise self._sessions_error(sessions)
        return sessions

    def _should_create(self, connection: Any, actions: "Actions", if_not_exists: bool, exists: bool | None) -> bool:
        if self._exists(connection) if exists is None else exists:
            if if_not_exists:
                actions.note(f"database {self.spec.name!r} already exists")
                return False
            raise StepFailed(f"database {self.spec.name!r} already exists: run drop-db first, or set if_not_exists: true")
        return True

    def django_options(self) -> dict[str, Any]:
        return dict(self.spec.options)

    def draft_block(self, root: Path) -> dict[str, object]:
        block: dict[str, object] = {"engine": self.name, "name": self.spec.name}
        for key in ("host", "port", "user"):
            value = getattr(self.spec, key)
            if value:
                block[key] = value
        return block

    def admin_django_settings(self) -> dict[str, Any]:
        settings = self.django_settings()
        if self.spec.admin_user:
            settings.update(USER=self.spec.admin_user, PASSWORD=self.spec.admin_password or "")
        return settings

    def django_settings(self) -> dict[str, Any]:
        return {
            "ENGINE": self.django_backends[0],
            "NAME": self.spec.name,
            "USER": self.spec.user or "",
            "PASSWORD": self.spec.password or "",
            "HOST": self.spec.host or "",
            "PORT": str(self.spec.port or ""),
            "OPTIONS": self.django_options(),
        }

    def scratch(self, tag: str, leave_out: Iterable[str] = ()) -> "ServerEngine":
        """A scratch sibling, with the live database's extensions but those in ``leave_out``."""
        engine = self.scratch_named(scratch_name(self.spec.name, tag, self.max_name_length))
        facts, leave_out = self.scratch_facts(), set(leave_out)
        if "extensions" in facts:
            facts["extensions"] = [name for name in facts["extensions"] if name.lower() not in leave_out]
        engine.recreate_with(facts)
        return engine

    def scratch_facts(self) -> dict[str, Any]:
        """How a scratch sibling is created: like the live database, so column
        defaults (collation, encoding) compare like for like; owned by the app user as before."""
        return {key: value for key, value in self.remember_before_drop().items() if key != "owner"}

    def scratch_named(self, name: str) -> "ServerEngine":
        if not name.startswith(SCRATCH_PREFIX):
            raise StepFailed(f"{name!r} is not a scratch database name")  # never reached by a live name
        return type(self)(replace(self.spec, name=name))
