"""rewrite-history and check-applied: the listed apps' rows in django_migrations.

In the keep recipe rewrite-history follows makemigrations; on every other
environment, once the new files are deployed::

    steps: [check-applied, backup, rewrite-history, verify]
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from djreset import faults, graphs, marker
from djreset.errors import NothingToDo, Refused, StepFailed
from djreset.registry import step
from djreset.run import Run
from djreset.steps.checks import history_state

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.migrations import Migration
    from django.db.migrations.loader import MigrationLoader


def disk_names(loader: "MigrationLoader", label: str) -> set[str]:
    return {name for app, name in loader.disk_migrations if app == label}


def recorded_names(run: Run, alias: str) -> dict[str, set[str]]:
    from django.db.migrations.recorder import MigrationRecorder

    recorder = MigrationRecorder(run.django.connection(alias))
    rows = recorder.migration_qs.filter(app__in=run.apps).values_list("app", "name") if recorder.has_table() else []
    recorded: dict[str, set[str]] = {label: set() for label in run.apps}
    for app, name in rows:
        recorded[app].add(name)
    return recorded


def reset_names(run: Run) -> dict[str, set[str]]:
    """Per listed app, the migrations a reset must have recorded.

    With reset-history.json, its "new" lists: migrations made after the reset
    may still wait for migrate.  Without it, every migration on disk."""
    recorded = (marker.load(run.project) or {}).get("apps", {})
    loader = run.django.loader()
    names = {}
    for label in run.apps:
        entry = recorded.get(label)
        names[label] = set(entry["new"]) if entry and entry.get("new") else disk_names(loader, label)
    return names


def _new_names(run: Run, loader: "MigrationLoader", label: str) -> list[str]:
    """The migrations the reset recorded for ``label``: from reset-history.json, else the files."""
    on_disk = disk_names(loader, label)
    recorded = (marker.load(run.project) or {}).get("apps", {}).get(label, {}).get("new")
    names = [name for name in recorded if name in on_disk] if recorded else sorted(on_disk)
    return names


def _switch_state(run: Run, loader: "MigrationLoader", label: str, rows: set[str]) -> str:
    """'applied', 'pending' or 'unmigrated' for one app on one database; refuses otherwise."""
    entry = (marker.load(run.project) or {}).get("apps", {}).get(label)
    new = set(_new_names(run, loader, label))
    replaced = set(entry["replaced"]) if entry else set()
    only_old = replaced - new
    if not rows:
        return "unmigrated"
    if new <= rows and not (rows & only_old):
        return "applied"
    if entry is None:
        return "pending"
    if replaced <= rows:
        return "pending"
    missing = sorted(replaced - rows)
    raise Refused(
        f"{label}: this database never applied {', '.join(label + '.' + m for m in missing)} of the old history; "
        "deploy the release before the reset, run migrate, then apply the reset"
    )


def missing_schema(connection: "BaseDatabaseWrapper", migration: "Migration") -> list[str]:
    """Tables and columns a new migration creates that the database lacks.

    What ``migrate --fake-initial`` checks (CreateModel tables, AddField
    columns and many-to-many tables), against the project's final models:
    after a reset the new migrations create exactly those.  One pass with
    the app registry Django has already built, instead of rendering a model
    state per migration.
    """
    from django.apps import apps
    from django.db import router
    from django.db.migrations.operations import AddField, CreateModel

    introspection = connection.introspection
    with connection.cursor() as cursor:
        tables = set(introspection.table_names(cursor))
        missing = []
        for operation in migration.operations:
            if not isinstance(operation, (CreateModel, AddField)):
                continue
            name = operation.name if isinstance(operation, CreateModel) else operation.model_name
            model = apps.get_model(migration.app_label, name)
            if model._meta.swapped:
                model = apps.get_model(model._meta.swapped)
            if model._meta.proxy or not model._meta.managed or not router.allow_migrate_model(connection.alias, model):
                continue
            table = model._meta.db_table
            if table not in tables:
                missing.append(f"table {table}")
            elif isinstance(operation, AddField):
                field = model._meta.get_field(operation.name)
                if field.many_to_many:
                    through = field.remote_field.through._meta.db_table
                    if through not in tables:
                        missing.append(f"table {through}")
                elif field.column not in {info.name for info in introspection.get_table_description(cursor, table)}:
                    missing.append(f"column {table}.{field.column}")
    return missing


@step("rewrite-history", destructive=True)
def rewrite_history(run: Run) -> None:
    """Replace the listed apps' rows in django_migrations with the new migrations, in one transaction."""
    from django.db import transaction
    from django.db.migrations.recorder import MigrationRecorder

    if run.dry and run.state.get("files_cleaned"):
        # The old files are still there in a dry run: say what will be recorded.
        predicted = graphs.predict(run.django, run.apps).new
        names = ", ".join(f"{label}.{m.name}" for label, ms in predicted.items() for m in ms)
        for alias in run.aliases:
            run.actions.do(f"{alias}: in one transaction, delete the rows of {', '.join(run.apps)}, record {names} and the carried data migrations")
        return
    for alias in run.aliases:
        connection = run.django.connection(alias)
        loader = run.django.loader()
        recorded = recorded_names(run, alias)
        switch = {label: _switch_state(run, loader, label, recorded[label]) for label in run.apps}
        labels = [label for label, state in switch.items() if state == "pending"]
        if not labels:
            run.out.info(f"{alias}: already rewritten ({', '.join(f'{k} {v}' for k, v in switch.items())})")
            continue
        new = {label: _new_names(run, loader, label) for label in labels}
        recorder = MigrationRecorder(connection)
        forget = recorder.migration_qs.filter(app__in=labels)
        rows = [recorder.Migration(app=label, name=name) for label in labels for name in new[label]]
        described = ", ".join(f"{label}.{name}" for label in labels for name in new[label])
        if run.dry:
            run.actions.do(f"{alias}: in one transaction, delete {forget.count()} rows of {', '.join(labels)}, record {described}")
            continue

        def rewrite() -> None:
            with transaction.atomic(using=alias):
                forget.delete()
                faults.point("inside:rewrite-history")
                for label in labels:
                    for name in new[label]:
                        missing = missing_schema(connection, loader.disk_migrations[(label, name)])
                        if missing:
                            raise StepFailed(f"{alias}: {label}.{name} creates {', '.join(missing)}, missing in the database; nothing was recorded")
                recorder.Migration.objects.using(alias).bulk_create(rows)
                run.django.history_changed()
                # Migrations newer than the reset may stay unapplied: migrate runs them next.
                inconsistent, unapplied = history_state(run, alias)
                missed = [f"{app}.{name}" for app, name in unapplied if name in new.get(app, ())]
                if inconsistent or missed:
                    problem = inconsistent or f"still unapplied: {', '.join(missed)}"
                    raise StepFailed(f"{alias}: the new history does not hold ({problem}); nothing was recorded")

        count = forget.count()
        try:
            run.actions.do(f"{alias}: delete {count} rows of {', '.join(labels)} and record {described} (one transaction)", rewrite)
        finally:
            run.django.history_changed()
        later = history_state(run, alias)[1]
        run.out.info(f"{alias}: consistent" + (f"; migrate will apply {len(later)} newer migration(s)" if later else "; migrate --check passes"))


@step("check-applied", read_only=True)
def check_applied(run: Run) -> None:
    """Tell whether this database still needs the reset: stop if already done, refuse if it was behind."""
    data = marker.load(run.project)
    if data is None:
        raise Refused(f"no {marker.NAME} next to reset.yaml: reset once (it records what the new files replace), commit, deploy")
    loader = run.django.loader()
    pending = []
    for alias in run.aliases:
        recorded = recorded_names(run, alias)
        for label in run.apps:
            state = _switch_state(run, loader, label, recorded[label])
            run.out.info(f"{alias}: {label}: {state}")
            if state == "pending":
                pending.append(f"{alias}:{label}")
    if not pending:
        raise NothingToDo(f"the reset of {data.get('reset_at', '?')} is already applied here; nothing to do")
    run.out.info(f"the reset of {data.get('reset_at', '?')} still has to be applied ({', '.join(pending)})")
