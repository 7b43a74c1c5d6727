"""django_migrations: its rows, and Django's own checks of the history.

The one home of ``MigrationRecorder`` in djreset.  Rows are deleted and
inserted with plain SQL through Django's connection (identifiers quoted by
Django), never through model ``delete()``: that would fire the project's
``pre_delete``/``post_delete`` receivers on the Migration model, and those may
need services (a cache, a queue) or write rows of their own.
"""
from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator

from djreset import state
from djreset.bridge import data_migrations, rollout
from djreset.bridge.graphs import conflicts, project_state
from djreset.errors import Refused, StepFailed

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.migrations import Migration
    from django.db.migrations.loader import MigrationLoader
    from django.db.migrations.recorder import MigrationRecorder

    from djreset.bridge import DjangoBridge
    from djreset.engines.base import HistoryLock

Key = tuple[str, str]


def recorder(bridge: "DjangoBridge", alias: str) -> "MigrationRecorder":
    from django.db.migrations.recorder import MigrationRecorder

    return MigrationRecorder(bridge.connection(alias))


def table_name() -> str:
    """django_migrations, as Django names it."""
    from django.db.migrations.recorder import MigrationRecorder

    return MigrationRecorder.Migration._meta.db_table


def _table(connection: "BaseDatabaseWrapper") -> str:
    from django.db.migrations.recorder import MigrationRecorder

    return connection.ops.quote_name(MigrationRecorder.Migration._meta.db_table)


def recorded_names(bridge: "DjangoBridge", alias: str, labels: Iterable[str]) -> dict[str, set[str]]:
    """Per app, the names of its rows in django_migrations."""
    labels = list(labels)
    found = recorder(bridge, alias)
    rows = found.migration_qs.filter(app__in=labels).values_list("app", "name") if found.has_table() else []
    recorded: dict[str, set[str]] = {label: set() for label in labels}
    for app, name in rows:
        recorded[app].add(name)
    return recorded


# -- reading and writing rows ---------------------------------------------------------


def forget_statement(connection: "BaseDatabaseWrapper", labels: list[str]) -> tuple[str, list[str]]:
    """The DELETE that forgets the listed apps' rows, quoted by Django."""
    placeholders = ", ".join(["%s"] * len(labels))
    return f"DELETE FROM {_table(connection)} WHERE {connection.ops.quote_name('app')} IN ({placeholders})", list(labels)


def forget(bridge: "DjangoBridge", alias: str, labels: list[str], midway: Callable[[], None] = lambda: None) -> None:
    """Delete the listed apps' rows in one transaction."""
    from django.db import transaction

    connection = bridge.connection(alias)
    sql, params = forget_statement(connection, labels)
    with transaction.atomic(using=alias), connection.cursor() as cursor:
        cursor.execute(sql, params)
        midway()
    bridge.history_changed()


def count_rows(bridge: "DjangoBridge", alias: str, labels: Iterable[str]) -> int:
    return recorder(bridge, alias).migration_qs.filter(app__in=list(labels)).count()


def _insert(connection: "BaseDatabaseWrapper", rows: Iterable[tuple[Any, ...]], with_ids: bool) -> None:
    rows = list(rows)
    if not rows:
        return
    qn = connection.ops.quote_name
    columns = ("id", "app", "name", "applied") if with_ids else ("app", "name", "applied")
    sql = f"INSERT INTO {_table(connection)} ({', '.join(map(qn, columns))}) VALUES ({', '.join(['%s'] * len(columns))})"
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def record(bridge: "DjangoBridge", alias: str, keys: Iterable[Key]) -> None:
    """Record migrations as applied now (inside the caller's transaction)."""
    from django.utils import timezone

    connection = bridge.connection(alias)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    _insert(connection, [(app, name, now) for app, name in keys], with_ids=False)


def all_rows(bridge: "DjangoBridge", alias: str) -> list[dict[str, Any]] | None:
    """Every row of django_migrations, ids and timestamps included (None: no table)."""
    found = recorder(bridge, alias)
    if not found.has_table():
        return None
    return [
        {"id": row.id, "app": row.app, "name": row.name, "applied": row.applied.isoformat()}
        for row in found.migration_qs.order_by("id")
    ]


def listed_rows(bridge: "DjangoBridge", alias: str, labels: Iterable[str]) -> list[dict[str, Any]]:
    """The rows of ``labels``, as :func:`all_rows` gives them."""
    return [row for row in all_rows(bridge, alias) or [] if row["app"] in set(labels)]


def replace_rows(bridge: "DjangoBridge", alias: str, labels: Iterable[str], rows: list[dict[str, Any]]) -> None:
    """Put the saved rows of ``labels`` back exactly, ids included, in one
    transaction; every other app's rows stay as they are now.  A saved id that
    another app's row has taken since (engines may reuse ids) gets a new one."""
    from django.core.management.color import no_style
    from django.db import transaction

    connection = bridge.connection(alias)
    found = recorder(bridge, alias)
    found.ensure_schema()
    ops = connection.ops
    labels = list(labels)
    with transaction.atomic(using=alias):
        sql, params = forget_statement(connection, labels)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
        taken = set(found.migration_qs.values_list("id", flat=True))
        saved = [(row["id"], row["app"], row["name"], ops.adapt_datetimefield_value(datetime.fromisoformat(row["applied"]))) for row in rows]
        _insert(connection, [row for row in saved if row[0] not in taken], with_ids=True)
        _insert(connection, [row[1:] for row in saved if row[0] in taken], with_ids=False)
        # Explicit ids leave PostgreSQL's sequence behind; Django knows the fix.
        with connection.cursor() as cursor:
            for statement in ops.sequence_reset_sql(no_style(), [found.Migration]):
                cursor.execute(statement)
    bridge.history_changed()


# -- Django's checks -----------------------------------------------------------------


def history_state(bridge: "DjangoBridge", alias: str) -> tuple[str | None, list[Key]]:
    """What ``migrate --check`` finds on one database, as it finds it: several
    leaf nodes in an app, an inconsistent history, or the unapplied migrations
    (the problem, or None; the unapplied migrations in plan order)."""
    from django.db.migrations.exceptions import InconsistentMigrationHistory

    executor = bridge.executor(alias)
    conflicting = conflicts(executor.loader)
    if conflicting:
        return conflicting, []
    try:
        executor.loader.check_consistent_history(executor.connection)
    except InconsistentMigrationHistory as exc:
        return str(exc), []
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return None, [(m.app_label, m.name) for m, _ in plan]


def history_problems(bridge: "DjangoBridge", alias: str) -> list[str]:
    """An inconsistency, or every unapplied migration, one line each."""
    inconsistent, unapplied = history_state(bridge, alias)
    if inconsistent:
        return [f"{alias}: {inconsistent}"]
    return [f"{alias}: {app}.{name} is not applied" for app, name in unapplied]


def unrecorded_squashes(bridge: "DjangoBridge", alias: str, labels: Iterable[str]) -> list[str]:
    """Squashes Django counts as applied (all they replace is) that have no row yet:
    a reset starts from a history as ``migrate`` leaves it (and a new migration
    replaces a squash another app names), so they are recorded first."""
    labels = list(labels)
    rows = recorded_names(bridge, alias, labels)
    loader = bridge.loader()
    return [
        f"{alias}: {app}.{name} is applied but not recorded (a squash): run `manage.py migrate`, which records it"
        for (app, name), migration in sorted(loader.disk_migrations.items())
        if app in rows and migration.replaces and name not in rows[app]
        and all(original in rows[app] for owner, original in migration.replaces if owner == app)
    ]


def pending_model_changes(bridge: "DjangoBridge") -> list[str]:
    """What ``makemigrations --check`` would report, for every app (once per set of files)."""
    loader = bridge.loader()
    if bridge.pending_changes and bridge.pending_changes[0] is loader:
        return bridge.pending_changes[1]
    from django.apps import apps
    from django.db.migrations.autodetector import MigrationAutodetector
    from django.db.migrations.questioner import NonInteractiveMigrationQuestioner
    from django.db.migrations.state import ProjectState

    autodetector = MigrationAutodetector(
        project_state(loader.graph, loader.graph.leaf_nodes(), real_apps=loader.unmigrated_apps),
        ProjectState.from_apps(apps),
        NonInteractiveMigrationQuestioner(dry_run=True),
    )
    changes = autodetector.changes(graph=loader.graph)
    found = [f"{app}: {op.describe()}" for app, migrations in sorted(changes.items()) for m in migrations for op in m.operations]
    bridge.pending_changes = (loader, found)
    return found


# -- the reset's names ---------------------------------------------------------------


def disk_names(loader: "MigrationLoader", label: str) -> set[str]:
    return {name for app, name in loader.disk_migrations if app == label}


def expected_names(bridge: "DjangoBridge", labels: Iterable[str]) -> dict[str, set[str]]:
    """Per listed app, the migrations a reset must have recorded.

    With reset-history.json, its "new" lists: migrations made after the reset
    may still wait for migrate.  Without it, every migration on disk."""
    recorded = state.reset_apps(bridge.project)
    loader = bridge.loader()
    names = {}
    for label in labels:
        entry = recorded.get(label)
        names[label] = set(entry["new"]) if entry and entry.get("new") else disk_names(loader, label)
    return names


def resets(bridge: "DjangoBridge", labels: Iterable[str]) -> dict[str, rollout.AppReset]:
    """The listed apps' resets: as their files' ``replaces`` say, else as reset-history.json records them
    (it outlives the replaces lists, which retire removes)."""
    labels = list(labels)
    recorded = rollout.from_record(state.reset_apps(bridge.project), labels)
    return {**recorded, **rollout.from_files(bridge.loader(), labels)}


def standings(bridge: "DjangoBridge", alias: str, found: dict[str, rollout.AppReset]) -> dict[str, rollout.AppStanding]:
    return rollout.standings(found, recorded_names(bridge, alias, found))


# -- changing the history under the database's lock ------------------------------------------


def _run_all(connection: "BaseDatabaseWrapper", statements: Iterable[tuple[str, tuple[Any, ...]]], answer_one: bool = False) -> None:
    with connection.cursor() as cursor:
        for sql, params in statements:
            cursor.execute(sql, params)
            if answer_one and (cursor.fetchone() or (None,))[0] != 1:
                raise StepFailed(f"{connection.alias}: another djreset held the history lock too long ({sql}); nothing was changed")


@contextmanager
def locked(bridge: "DjangoBridge", alias: str, lock: "HistoryLock") -> Iterator[None]:
    """One transaction on ``alias`` holding the database's own lock on the history (the engine says how)."""
    from django.db import transaction

    connection = bridge.connection(alias)
    connection.ensure_connection()
    _run_all(connection, lock.before, answer_one=True)
    previous = getattr(connection, "transaction_mode", None)
    try:
        if lock.immediate:
            connection.transaction_mode = "IMMEDIATE"  # Django's own OPTIONS setting, for this BEGIN only
        with transaction.atomic(using=alias):
            connection.transaction_mode = previous
            _run_all(connection, lock.first)
            yield
    finally:
        connection.transaction_mode = previous
        _run_all(connection, lock.after)


def change(
    bridge: "DjangoBridge", alias: str, found: dict[str, rollout.AppReset], lock: "HistoryLock", swap: bool,
    midway: Callable[[], None] = lambda: None,
) -> rollout.HistoryChange:
    """Under the database's lock, in one transaction: read the rows again, decide
    (record the new migrations; with ``swap`` also delete the old rows), change
    them, and prove the history holds; any failure rolls it all back."""
    try:
        with locked(bridge, alias, lock):
            planned = plan_change(bridge, alias, found, swap)
            if planned.empty:
                return planned
            connection = bridge.connection(alias)
            qn = connection.ops.quote_name
            with connection.cursor() as cursor:
                cursor.executemany(f"DELETE FROM {_table(connection)} WHERE {qn('app')} = %s AND {qn('name')} = %s", planned.forget)
            midway()
            _require_schema(bridge, alias, planned.record)
            record(bridge, alias, planned.record)
            bridge.history_changed()
            _require_consistent(bridge, alias, found)
            return planned
    finally:
        bridge.history_changed()


def plan_change(bridge: "DjangoBridge", alias: str, found: dict[str, rollout.AppReset], swap: bool) -> rollout.HistoryChange:
    """What :func:`change` would do now (it decides again under the lock); refuses a database that is not safe."""
    rows = recorded_names(bridge, alias, found)
    where = rollout.standings(found, rows)
    problems = rollout.unsafe(where)
    if problems:
        raise Refused(f"{alias}: {'; '.join(problems)}: deploy the release before the reset and migrate first; nothing was changed")
    if not swap:
        return rollout.plan_record(alias, found, where, rows)
    change = rollout.plan_swap(alias, found, where, rows)
    # Retired at once: also the rows retire would prune (a squash's own row, an app left with no migrations).
    change.forget = sorted(set(change.forget) | set(prunable(bridge, alias, bridge.project.apps)))
    return change


def prunable(bridge: "DjangoBridge", alias: str, labels: Iterable[str]) -> list[Key]:
    """Rows of the listed apps whose migration is not on disk: what ``migrate --prune`` deletes."""
    loader = bridge.loader()
    rows = recorded_names(bridge, alias, labels)
    return [(app, name) for app, names in rows.items() for name in sorted(names) if (app, name) not in loader.disk_migrations]


def prune(bridge: "DjangoBridge", alias: str, labels: list[str], found: dict[str, rollout.AppReset], lock: "HistoryLock") -> list[Key]:
    """Delete those rows under the database's lock, in one transaction; prove the history still holds."""
    try:
        with locked(bridge, alias, lock):
            gone = prunable(bridge, alias, labels)
            connection = bridge.connection(alias)
            qn = connection.ops.quote_name
            with connection.cursor() as cursor:
                cursor.executemany(f"DELETE FROM {_table(connection)} WHERE {qn('app')} = %s AND {qn('name')} = %s", gone)
            bridge.history_changed()
            _require_consistent(bridge, alias, found)
            return gone
    finally:
        bridge.history_changed()


def _require_schema(bridge: "DjangoBridge", alias: str, keys: list[Key]) -> None:
    loader = bridge.loader()
    for app, name in keys:
        missing = missing_schema(bridge, alias, loader.disk_migrations[(app, name)])
        if missing:
            raise StepFailed(f"{alias}: {app}.{name} creates {', '.join(missing)}, missing in the database; nothing was recorded")


def _require_consistent(bridge: "DjangoBridge", alias: str, found: dict[str, rollout.AppReset]) -> None:
    """Migrations newer than the reset may stay unapplied (migrate runs them next); the reset's may not."""
    inconsistent, unapplied = history_state(bridge, alias)
    missed = [f"{app}.{name}" for app, name in unapplied if app in found and name in found[app].new]
    if inconsistent or missed:
        problem = inconsistent or f"still unapplied: {', '.join(missed)}"
        raise StepFailed(f"{alias}: the new history does not hold ({problem}); nothing was recorded")


def missing_schema(bridge: "DjangoBridge", alias: str, migration: "Migration") -> list[str]:
    """Tables and columns a new migration creates that the database lacks.

    What ``migrate --fake-initial`` checks (CreateModel tables, AddField
    columns and many-to-many tables), against the project's final models:
    after a reset the new migrations create exactly those.  One pass with
    the app registry Django has already built.
    """
    from django.apps import apps
    from django.db import router
    from django.db.migrations.operations import AddField, CreateModel

    connection = bridge.connection(alias)
    introspection = connection.introspection
    missing = []
    with connection.cursor() as cursor:
        tables = set(introspection.table_names(cursor))
        for operation in migration.operations:
            if not isinstance(operation, (CreateModel, AddField)):
                continue
            name = operation.name if isinstance(operation, CreateModel) else operation.model_name
            try:
                model = apps.get_model(migration.app_label, name)
            except LookupError:  # a partial reset: renamed or deleted by a kept migration
                continue
            if model._meta.swapped:
                model = apps.get_model(model._meta.swapped)
            if not model._meta.can_migrate(connection) or not router.allow_migrate_model(alias, model):
                continue
            table = model._meta.db_table
            if table not in tables:
                missing.append(f"table {table}")
            elif isinstance(operation, AddField) and any(f.name == operation.name for f in model._meta.get_fields()):
                missing += _missing_column(introspection, cursor, model, operation.name, tables)
    return missing


def _missing_column(introspection: Any, cursor: Any, model: Any, field_name: str, tables: set[str]) -> list[str]:
    table, field = model._meta.db_table, model._meta.get_field(field_name)
    if field.many_to_many:
        through = field.remote_field.through._meta.db_table
        return [] if through in tables else [f"table {through}"]
    columns = {info.name for info in introspection.get_table_description(cursor, table)}
    return [] if field.column in columns else [f"column {table}.{field.column}"]


# -- migrate --fake-initial, made safe ------------------------------------------------------


def soft_applied_initials(bridge: "DjangoBridge", alias: str, labels: Iterable[str]) -> tuple[list["Migration"], list["Migration"]]:
    """The listed apps' unapplied migrations whose tables exist; and the unapplied
    carried data migrations of those apps (this database ran their origins already:
    only their rows were forgotten), from one migration plan.

    Django's own test (``MigrationExecutor.detect_soft_applied``, the one
    ``migrate --fake-initial`` uses), without the history consistency check
    that would stop on admin.0001 before anything is faked.
    """
    labels = set(labels)
    executor = bridge.executor(alias)
    forwards = [migration for migration, backwards in executor.migration_plan(executor.loader.graph.leaf_nodes()) if not backwards]
    initials = [migration for migration in forwards if migration.app_label in labels and executor.detect_soft_applied(None, migration)[0]]
    apps = {migration.app_label for migration in initials}
    carried = [migration for migration in forwards if migration.app_label in apps and getattr(migration, data_migrations.CARRIED, None)]
    return initials, carried


def record_applied(bridge: "DjangoBridge", alias: str, migration: "Migration") -> None:
    """Record a migration as migrate records one it applied: a replacing migration
    with the migrations it replaces (Django counts it applied only with them), then itself."""
    key = (migration.app_label, migration.name)
    recorded = recorded_names(bridge, alias, {app for app, _ in [*migration.replaces, key]})
    keys = [tuple(old) for old in migration.replaces] + [key]
    record(bridge, alias, [(app, name) for app, name in dict.fromkeys(keys) if name not in recorded[app]])
    bridge.history_changed()
