"""The Django bridge: one Django, set up once, in this process.

The ``bridge`` package is the only part of djreset that talks to Django
(apart from the engines borrowing its identifier quoting).  This module
holds :class:`DjangoBridge`: settings and the database override, connections,
the app registry, the migration loader and executor (cached), and management
commands.  Its neighbours do the migration work:

* ``packages``: migration packages on disk and whose code they are;
* ``history``: the rows of ``django_migrations`` and Django's history checks;
* ``graphs``: the migration graph after a reset, and building it into a database;
* ``data_migrations``: operations makemigrations cannot re-create, and carrying them;
* ``schema``: a database's schema, snapshot and compared.

A whole reset runs in this one process, so Django boots and loads the
migration graph once, not once per app and step.
"""
from __future__ import annotations

import copy
import importlib
import io
import os
import sys
import time
import traceback
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Mapping

from djreset.bridge import packages
from djreset.bridge.errors import describe_database_error
from djreset.errors import ConfigError, StepFailed, suggest

if TYPE_CHECKING:
    from django.apps import AppConfig
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.migrations.executor import MigrationExecutor
    from django.db.migrations.loader import MigrationLoader
    from django.db.models import Model

    from djreset.config import Project


def _same_database(alias: str, entry: dict[str, Any]) -> tuple[str, ...]:
    """What makes two aliases one database to act on: engine, where, name, and who connects
    how (another user or search_path may see other tables); a SQLite file by its real path."""
    name = str(entry.get("NAME") or "")
    if "sqlite" in str(entry.get("ENGINE")):
        if name in ("", ":memory:") or "mode=memory" in name:
            return (alias,)  # in-memory: one per alias
        name = os.path.realpath(name)
    return (str(entry.get("ENGINE")), name, str(entry.get("HOST") or ""), str(entry.get("PORT") or ""),
            str(entry.get("USER") or ""), repr(sorted((entry.get("OPTIONS") or {}).items())))


def _django_is_running() -> bool:
    """Has this process set Django up already (``manage.py djreset``)?"""
    if "django.apps" not in sys.modules:
        return False
    from django.apps import apps

    return apps.ready


class _SavedAlias:
    """One alias's connection and settings while it points elsewhere (see DjangoBridge.redirected)."""

    def __init__(self, alias: str, connections: Any):
        self.alias = alias
        self.wrapper = connections[alias]
        self.settings = connections.settings[alias]
        # The wrapper usually shares the settings dict; when it does not, both move.
        shared = {id(self.settings): self.settings, id(self.wrapper.settings_dict): self.wrapper.settings_dict}
        self.saved = [(d, copy.deepcopy(d)) for d in shared.values()]

    def point_at(self, scratch: dict[str, Any], connections: Any) -> None:
        if self.wrapper.settings_dict.get("ENGINE") == scratch["ENGINE"]:
            for settings_dict, _ in self.saved:
                settings_dict.clear()
                settings_dict.update(copy.deepcopy(scratch))
            return
        # Another engine's wrapper cannot reach the scratch database: it gets
        # none at all, and the alias a new wrapper of the right engine.
        self.wrapper.get_new_connection = _no_live_connection
        connections.settings[self.alias] = copy.deepcopy(scratch)
        connections[self.alias] = connections.create_connection(self.alias)

    def put_back(self, connections: Any) -> None:
        _close(connections[self.alias])
        vars(self.wrapper).pop("get_new_connection", None)
        for settings_dict, before in self.saved:
            settings_dict.clear()
            settings_dict.update(before)
        connections.settings[self.alias] = self.settings
        connections[self.alias] = self.wrapper


def _no_live_connection(*args: Any, **kwargs: Any) -> None:
    raise RuntimeError("djreset: this connection points at a live database while a scratch database is built; use the alias instead")


def _close(wrapper: "BaseDatabaseWrapper") -> None:
    """Close the connection, and the pool PostgreSQL's wrapper keeps for its alias on the class."""
    wrapper.close()
    if wrapper.closed_in_transaction:
        # A statement that failed in a schema editor's exit (a deferred foreign key)
        # leaves its atomic block open: closed, nothing of it survives, and the
        # next use connects afresh instead of failing with "the connection is closed".
        wrapper.connection, wrapper.closed_in_transaction, wrapper.needs_rollback = None, False, False
        wrapper.in_atomic_block, wrapper.atomic_blocks, wrapper.savepoint_ids = False, [], []
    if wrapper.alias in getattr(type(wrapper), "_connection_pools", {}):
        wrapper.close_pool()


def _forget_per_database_state(connections: Any) -> None:
    """Close every connection and pool, and empty the caches Django fills from one database
    (ContentType's ids per alias, the current Site, PostgreSQL's hstore/citext type ids)."""
    for wrapper in connections.all(initialized_only=True):
        _close(wrapper)
    if "django.contrib.contenttypes.models" in sys.modules:
        sys.modules["django.contrib.contenttypes.models"].ContentType.objects.clear_cache()
    if "django.contrib.sites.models" in sys.modules:
        sys.modules["django.contrib.sites.models"].Site.objects.clear_cache()
    if "django.contrib.postgres.signals" in sys.modules:
        signals = sys.modules["django.contrib.postgres.signals"]
        signals.get_hstore_oids.cache_clear()
        signals.get_citext_oids.cache_clear()


class DjangoBridge:
    def __init__(
        self,
        project: "Project",
        databases: Mapping[str, dict[str, Any]] | None,
        session_sql: Callable[[str], list[str]] = lambda alias: [],
    ):
        self.project = project
        self._databases = dict(databases or {})
        self._settings_databases: dict[str, Any] | None = None  # the settings' own, before reset.yaml's replaced them
        # alias → statements run on each new Django connection to it (bounded lock waits).
        self._session_sql = session_sql
        self._ready = False
        # Loading the migration graph is the expensive part of every check;
        # one loader per database, kept until files or history change.
        self._loaders: dict[str | None, "MigrationLoader"] = {}
        self._packages: dict[str, packages.MigrationsPackage] = {}
        self.load_seconds: float | None = None  # the first (cold) load of the graph
        # Keyed by the loader they were computed from (see history.pending_model_changes).
        self.pending_changes: tuple["MigrationLoader", list[str]] | None = None
        # The autodetector's new migrations for the listed apps, keyed the same way (see graphs.predict).
        self.predicted: tuple["MigrationLoader", Any, Any] | None = None
        # alias → (tables, snapshot) of the live schema, until a step may have changed it.
        self.live_snapshots: dict[str, tuple[frozenset[str], Any]] = {}
        # graphs.predict's answers, per kept data migrations: (loader, labels, the reset graph).
        self.predictions: dict[tuple[Any, ...], tuple[Any, ...]] = {}

    # -- setup ---------------------------------------------------------------

    def setup(self) -> None:
        if self._ready:
            return
        root = str(self.project.root)
        if root not in sys.path:
            sys.path.insert(0, root)
        if _django_is_running():
            self._join_running_django()
            return
        os.environ["DJANGO_SETTINGS_MODULE"] = self.project.settings
        try:
            import django
            from django.conf import settings

            settings.DATABASES  # noqa: B018 - imports the settings module now
        except Exception as exc:  # ImportError, SyntaxError, ImproperlyConfigured...
            raise ConfigError(
                f"cannot import the settings module {self.project.settings!r} from {root}: {type(exc).__name__}: {exc}",
                self.project.settings_where,
            ) from None
        # The database reset.yaml names wins over the one in settings, before
        # anything opens a connection.
        self._settings_databases = copy.deepcopy(settings.DATABASES)
        for alias, entry in self._databases.items():
            settings.DATABASES[alias] = entry
        try:
            django.setup()
        except Exception as exc:
            raise ConfigError(f"Django could not start with {self.project.settings}: {type(exc).__name__}: {exc}", self.project.settings_where) from None
        self._started()

    def _started(self) -> None:
        """Django is up: each new connection of the run gets its session settings (bounded lock waits)."""
        from django.db.backends.signals import connection_created

        connection_created.connect(self._on_connect, weak=False, dispatch_uid=f"djreset-{id(self)}")
        self._import_migration_commands()
        self._ready = True

    def _import_migration_commands(self) -> None:
        """Import the project's own makemigrations and migrate commands, never run them: what
        they patch when imported (NetBox and Nautobot leave choices and help texts out of
        ``Field.deconstruct``) shapes what makemigrations compares and writes, so djreset's too."""
        from django.core.management import get_commands, load_command_class

        for name in ("makemigrations", "migrate"):
            app = get_commands().get(name)
            if app and app != "django.core":
                try:
                    load_command_class(app, name)
                except Exception as exc:  # the project's own code
                    raise ConfigError(f"cannot import the project's {name} command ({app}): {type(exc).__name__}: {exc}",
                                      self.project.settings_where) from None

    def _join_running_django(self) -> None:
        """manage.py djreset: Django is set up already, with the settings manage.py chose.

        Use it, if they are the settings reset.yaml names; reset.yaml's
        databases still win, replacing connections Django may have made.
        """
        from django.conf import settings
        from django.db import connections

        running = getattr(settings, "SETTINGS_MODULE", None)
        if running != self.project.settings:
            raise ConfigError(
                f"Django runs with the settings {running!r} (manage.py, DJANGO_SETTINGS_MODULE or --settings), "
                f"but reset.yaml names {self.project.settings!r}: make them the same",
                self.project.settings_where,
            )
        self._settings_databases = copy.deepcopy(settings.DATABASES)
        for alias, entry in self._databases.items():
            settings.DATABASES[alias] = entry
        if self._databases and "settings" in vars(connections):  # Django has read DATABASES already
            for alias in self._databases:
                if alias in connections.settings:
                    connections[alias].close()
                    del connections[alias]
            wanted = {"default": dict(connections.settings["default"])} | {alias: dict(entry) for alias, entry in self._databases.items()}
            configured = connections.configure_settings(wanted)
            connections.settings.update({alias: configured[alias] for alias in self._databases})
        self._started()

    def _on_connect(self, sender: Any, connection: "BaseDatabaseWrapper", **kwargs: Any) -> None:
        statements = self._session_sql(connection.alias) if connection.alias in self.settings.DATABASES else []
        if statements:
            with connection.cursor() as cursor:
                for statement in statements:
                    cursor.execute(statement)

    # -- database errors, one line each ---------------------------------------------

    @contextmanager
    def database_errors(self) -> Iterator[None]:
        """A database error from Django's connections becomes one line (StepFailed):
        a connection that failed names host, database and user; a lock wait says so."""
        try:
            yield
        except Exception as exc:
            problem = describe_database_error(exc) if self._ready else None
            if problem is None:
                raise
            raise StepFailed(problem) from None

    @property
    def settings(self) -> Any:
        self.setup()
        from django.conf import settings

        return settings

    @property
    def settings_databases(self) -> dict[str, Any]:
        """The settings' own DATABASES, as they were before reset.yaml's took their place in this process."""
        return self._settings_databases or self.settings.DATABASES

    def aliases(self) -> list[str]:
        """The aliases a reset acts on: those reset.yaml names, else all of settings; a
        second alias of the same database (Nautobot's job_logs) is acted on once, as
        that one database.  (A dry run's redirection still moves every alias.)"""
        databases = self.settings.DATABASES
        found: dict[tuple[str, ...], str] = {}
        for alias in self._databases or databases:
            found.setdefault(_same_database(alias, databases[alias]), alias)
        return list(found.values())

    def connection(self, alias: str) -> "BaseDatabaseWrapper":
        self.setup()
        from django.db import connections

        return connections[alias]

    @contextmanager
    def redirected(self, entry: dict[str, Any]) -> Iterator[None]:
        """Point every alias Django knows at the database ``entry`` describes, then back.

        As Django's test runner does with its test database, each alias's own
        settings dict is changed in place and its connection closed: a wrapper
        the project's code captured before (``LIVE = connections["default"]``
        in a helper module), and each thread's, reconnects to the scratch
        database, never to a live one.  Pools and per-database caches are
        emptied at both ends, so nothing read from one database serves the other.
        """
        self.setup()
        from django.db import connections

        scratch = connections.configure_settings({"default": copy.deepcopy(entry)})["default"]
        saved = {alias: _SavedAlias(alias, connections) for alias in list(connections.settings)}
        loaders = dict(self._loaders)
        _forget_per_database_state(connections)
        try:
            for alias in saved.values():
                alias.point_at(scratch, connections)
            yield
        finally:
            for alias in saved.values():
                alias.put_back(connections)
            _forget_per_database_state(connections)
            self._loaders = loaders  # none built on the scratch database survives it

    def quote_name(self, alias: str) -> Callable[[str], str]:
        """Django's identifier quoting for ``alias`` (opens no connection)."""
        return self.connection(alias).ops.quote_name

    def close_connections(self) -> None:
        if self._ready:
            from django.db import connections

            connections.close_all()

    # -- apps and their migration packages ---------------------------------------

    def app_config(self, label: str) -> "AppConfig":
        self.setup()
        from django.apps import apps

        try:
            return apps.get_app_config(label)
        except LookupError:
            known = [config.label for config in apps.get_app_configs()]
            raise ConfigError(
                f"no installed app with the label {label!r}{suggest(label, known)}",
                self.project.app_where.get(label),
            ) from None

    def migrations_package(self, label: str) -> packages.MigrationsPackage:
        """The app's migrations package, proven to be the project's own code."""
        if label not in self._packages:
            where = self.project.app_where.get(label)
            self._packages[label] = packages.find_package(self.app_config(label), self.project.root, where)
        return self._packages[label]

    def check_apps(self, labels: Iterable[str]) -> None:
        """Every listed app exists and its migrations are the project's own."""
        for label in labels:
            self.migrations_package(label)

    def migratable_models(
        self, alias: str, labels: Iterable[str] | None = None, *, auto_created: bool = True
    ) -> list[type["Model"]]:
        """Models whose tables migrations create on ``alias`` (Django's own rule)."""
        from django.apps import apps
        from django.db import router

        connection = self.connection(alias)
        configs = [apps.get_app_config(label) for label in labels] if labels is not None else apps.get_app_configs()
        return [
            model
            for config in configs
            for model in config.get_models(include_auto_created=auto_created)
            if model._meta.can_migrate(connection) and router.allow_migrate_model(alias, model)
        ]

    def forget_migration_modules(self, labels: Iterable[str]) -> None:
        """Drop imported migration modules, so the next loader reads the disk again."""
        from django.db.migrations.loader import MigrationLoader

        for label in labels:
            module_name, _ = MigrationLoader.migrations_module(label)
            if not module_name:
                continue
            for name in [name for name in sys.modules if name.startswith(module_name + ".")]:
                del sys.modules[name]
        importlib.invalidate_caches()
        self._loaders.clear()
        self._packages.clear()
        self.predictions.clear()

    def history_changed(self) -> None:
        """django_migrations was written: loaders that read it are stale."""
        self._loaders = {alias: loader for alias, loader in self._loaders.items() if alias is None}

    def schema_may_have_changed(self) -> None:
        """A step may have changed a schema: live snapshots taken before are stale."""
        self.live_snapshots.clear()

    # -- the migration loader and executor ---------------------------------------------

    def loader(self, alias: str | None = None) -> "MigrationLoader":
        """The loader over the files on disk (and the history of ``alias``), built once."""
        if alias in self._loaders:
            return self._loaders[alias]
        self.setup()
        from django.db.migrations.exceptions import BadMigrationError, NodeNotFoundError
        from django.db.migrations.loader import MigrationLoader

        connection = self.connection(alias) if alias else None
        begin = time.perf_counter()
        try:
            loader = MigrationLoader(connection, ignore_no_migrations=True, load=False)
            read = next(iter(self._loaders.values()), None)
            if read is not None:
                _reuse_disk(loader, read)
            loader.build_graph()
        except (ImportError, BadMigrationError, NodeNotFoundError) as exc:
            cause = f" ({exc.__cause__})" if exc.__cause__ else ""
            raise StepFailed(f"Django cannot load the migrations: {exc}{cause}") from None
        if self.load_seconds is None and alias is None:
            self.load_seconds = time.perf_counter() - begin
        self._loaders[alias] = loader
        return loader

    def executor(self, alias: str, loader: "MigrationLoader | None" = None) -> "MigrationExecutor":
        """Django's executor on ``alias``, reusing a loader we have (the cached one by default)."""
        from django.db.migrations.executor import MigrationExecutor
        from django.db.migrations.recorder import MigrationRecorder

        # MigrationExecutor.__init__ would build (and read the disk for) a loader of its own.
        executor = MigrationExecutor.__new__(MigrationExecutor)
        executor.connection = self.connection(alias)
        executor.loader = loader or self.loader(alias)
        executor.recorder = MigrationRecorder(executor.connection)
        executor.progress_callback = None
        return executor

    # -- management commands -------------------------------------------------------

    def command_names(self) -> list[str]:
        self.setup()
        from django.core.management import get_commands

        return sorted(get_commands())

    def call_command(self, name: str, *args: str, **options: Any) -> str:
        """Run a management command in this process; return what it printed.

        ``CommandError`` becomes :class:`StepFailed`.  ``--check`` options end
        commands with ``sys.exit(1)``; that becomes StepFailed too.
        """
        self.setup()
        from django.core.management import call_command
        from django.core.management.base import CommandError

        buffer = io.StringIO()
        options.setdefault("stdout", buffer)
        options.setdefault("stderr", buffer)
        try:
            # Some commands print() directly; keep that in the buffer too.
            with redirect_stdout(buffer), redirect_stderr(buffer):
                call_command(name, *args, **options)
        except CommandError as exc:
            raise StepFailed(f"manage.py {name}: {exc}") from None
        except StepFailed:
            raise
        except Exception as exc:
            # The project's own code failed: say where, in one line.
            frame = traceback.extract_tb(exc.__traceback__)[-1]
            raise StepFailed(
                f"manage.py {name} raised {type(exc).__name__}: {exc} ({frame.filename}:{frame.lineno})"
            ) from exc
        except SystemExit as exc:
            if exc.code:
                output = buffer.getvalue().strip()
                detail = f":\n{output}" if output else ""
                raise StepFailed(f"manage.py {name} exited with status {exc.code}{detail}") from None
        return buffer.getvalue()


def _reuse_disk(loader: "MigrationLoader", read: "MigrationLoader") -> None:
    """Let ``loader`` build its graph from the migrations ``read`` already loaded
    from the same files (its own history, Django's own graph building): loading a
    thousand migration modules again costs more than all the rest."""
    loader.disk_migrations = dict(read.disk_migrations)
    loader.unmigrated_apps = set(read.unmigrated_apps)
    loader.migrated_apps = set(read.migrated_apps)
    loader.load_disk = lambda: None  # type: ignore[method-assign]
