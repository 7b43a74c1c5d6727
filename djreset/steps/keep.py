"""Keeping the database: check, verify, rewrite-history and check-applied.

The recipe for a database that must be kept::

    steps: [check, verify, clean-files, makemigrations, rewrite-history, verify]

and, on every other environment once the new files are deployed::

    steps: [check-applied, backup, rewrite-history, verify]
"""
from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from djreset import faults, graphs, inventory, marker, schema
from djreset.actions import Actions
from djreset.errors import NothingToDo, Refused, StepFailed
from djreset.registry import step
from djreset.run import Run
from djreset.ui import Output

if TYPE_CHECKING:
    from django.db.migrations.loader import MigrationLoader


def _quiet() -> Actions:
    import io

    return Actions(Output(io.StringIO()), dry=False)


def _disk_names(loader: "MigrationLoader", label: str) -> set[str]:
    return {name for app, name in loader.disk_migrations if app == label}


def _recorded(run: Run, alias: str) -> dict[str, set[str]]:
    from django.db.migrations.recorder import MigrationRecorder

    recorder = MigrationRecorder(run.django.connection(alias))
    rows = recorder.migration_qs.filter(app__in=run.apps).values_list("app", "name") if recorder.has_table() else []
    recorded: dict[str, set[str]] = {label: set() for label in run.apps}
    for app, name in rows:
        recorded[app].add(name)
    return recorded


# -- check ---------------------------------------------------------------------------


def pending_model_changes(run: Run) -> list[str]:
    """What ``makemigrations --check`` would report, for every app."""
    from django.apps import apps
    from django.db.migrations.autodetector import MigrationAutodetector
    from django.db.migrations.questioner import NonInteractiveMigrationQuestioner
    from django.db.migrations.state import ProjectState

    loader = run.django.loader()
    autodetector = MigrationAutodetector(
        loader.project_state(), ProjectState.from_apps(apps), NonInteractiveMigrationQuestioner(dry_run=True)
    )
    changes = autodetector.changes(graph=loader.graph)
    return [f"{app}: {op.describe()}" for app, migrations in sorted(changes.items()) for m in migrations for op in m.operations]


def history_state(run: Run, alias: str) -> tuple[str | None, list[tuple[str, str]]]:
    """Django's consistency check and ``migrate --check`` on one database:
    (the inconsistency, or None; the unapplied migrations in plan order)."""
    from django.db.migrations.exceptions import InconsistentMigrationHistory
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(run.django.connection(alias))
    try:
        executor.loader.check_consistent_history(executor.connection)
    except InconsistentMigrationHistory as exc:
        return str(exc), []
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return None, [(m.app_label, m.name) for m, _ in plan]


def history_problems(run: Run, alias: str) -> list[str]:
    inconsistent, unapplied = history_state(run, alias)
    if inconsistent:
        return [f"{alias}: {inconsistent}"]
    return [f"{alias}: {app}.{name} is not applied" for app, name in unapplied]


@step("check", read_only=True)
def check(run: Run) -> None:
    """Refuse a keep-the-database reset that would lose something (runs in plan too)."""
    problems: list[str] = []
    changes = pending_model_changes(run)
    if changes:
        problems.append("models have changes without a migration (run makemigrations and migrate first):\n" + "\n".join(f"    {c}" for c in changes))
    for alias in run.aliases:
        unapplied = history_problems(run, alias)
        if unapplied:
            problems.append("the database is not fully migrated (migrate first; these would be lost):\n" + "\n".join(f"    {u}" for u in unapplied))
    reset = graphs.predict(run.django, run.apps)
    for (app, name), (dep_app, dep_name) in reset.broken:
        problems.append(f"{app}.{name} depends on {dep_app}.{dep_name}, which the reset removes: add {app!r} to apps")
    operations = inventory.find(run.django.loader(), run.apps)
    undecided = [op for op in operations if inventory.decision(op, run.project.data_migrations) is None]
    if undecided:
        problems.append(inventory.undecided_message(undecided, run.project.root))
    if problems:
        for problem in problems:
            run.out.info(f"✗ {problem}")
        raise Refused(f"check: {len(problems)} problem(s), nothing was changed (details above)")
    for op in operations:
        run.out.info(f"{inventory.decision(op, run.project.data_migrations)}: {op.describe(run.project.root)}")
    run.out.info(f"check: ok ({len(run.apps)} apps, {', '.join(run.aliases)})")


# -- verify --------------------------------------------------------------------------


def _tables(run: Run, alias: str) -> set[str]:
    from django.apps import apps
    from django.db import router

    tables = set()
    for label in run.apps:
        for model in apps.get_app_config(label).get_models(include_auto_created=True):
            meta = model._meta
            if meta.managed and not meta.proxy and not meta.swapped and router.allow_migrate_model(alias, model):
                tables.add(meta.db_table)
    return tables


def compare_with_scratch(run: Run, alias: str) -> tuple[schema.Diff, str]:
    """Build the new migrations into a scratch database; diff it with ``alias``."""
    # Before the recipe cleans the files: what makemigrations will write.
    # Otherwise (after it, alone, or on deploy): the files on disk.
    on_disk = "clean-files" not in run.state.get("steps_ahead", ())
    if on_disk:
        graph, source = run.django.loader().graph, "the migration files on disk"
    else:
        graph, source = graphs.predict(run.django, run.apps).graph, "the migrations makemigrations will write (in memory)"
    only = None
    if on_disk:
        # Migrations newer than the reset that are not applied yet are migrate's
        # business: build what the live database has recorded.
        from django.db.migrations.recorder import MigrationRecorder

        only = set(MigrationRecorder(run.django.connection(alias)).applied_migrations())
    scratch = run.engine(alias).scratch(secrets.token_hex(3))
    quiet = _quiet()
    scratch.drop(quiet, if_exists=True, force=True)
    scratch.create(quiet)
    settings = scratch.django_settings()
    if scratch.spec.admin_user:  # the scratch database is the admin's, not the app's
        settings.update(USER=scratch.spec.admin_user, PASSWORD=scratch.spec.admin_password or "")
    try:
        run.django.add_connection(scratch.alias, settings)
        graphs.apply_to_empty(run.django, scratch.alias, graph, only)
        tables = _tables(run, alias)
        expected = schema.snapshot(run.django.connection(scratch.alias), tables)
        live = schema.snapshot(run.django.connection(alias), tables)
    finally:
        run.django.remove_connection(scratch.alias)
        scratch.drop(quiet, if_exists=True, force=True)
    return schema.compare(live, expected), source


@step("verify", read_only=True)
def verify(run: Run) -> None:
    """Prove the live schema equals what the new migrations build, and the history is consistent."""
    failures = 0
    for alias in run.aliases:
        diff, source = compare_with_scratch(run, alias)
        for warning in diff.warnings:
            run.out.warn(warning)
        for error in diff.errors:
            run.out.info(f"✗ {error}")
        failures += len(diff.errors)
        state = "matches" if not diff.errors else f"differs in {len(diff.errors)} place(s) from"
        run.out.info(f"{alias}: the live schema {state} the schema built from {source}")
        inconsistent, unapplied = history_state(run, alias)
        reset_names = _reset_names(run)
        missed = [f"{app}.{name}" for app, name in unapplied if name in reset_names.get(app, ())]
        later = [f"{app}.{name}" for app, name in unapplied if name not in reset_names.get(app, ())]
        problems = [inconsistent] if inconsistent else [f"{key} is not applied" for key in missed]
        for problem in problems:
            run.out.info(f"✗ {alias}: {problem}")
        failures += len(problems)
        if not problems:
            run.out.info(f"{alias}: history consistent, " + (f"migrate will apply {', '.join(later)}" if later else "nothing to migrate"))
    changes = pending_model_changes(run)
    for change in changes:
        run.out.info(f"✗ no migration for {change}")
    failures += len(changes)
    if failures:
        raise StepFailed(f"verify: {failures} difference(s); nothing was recorded (details above)")
    run.out.info("verify: ok (schema, history, makemigrations --check)")


# -- rewriting the history -----------------------------------------------------------------


def _reset_names(run: Run) -> dict[str, set[str]]:
    """Per listed app, the migrations a reset must have recorded.

    With reset-history.json, its "new" lists: migrations made after the reset
    may still wait for migrate.  Without it, every migration on disk."""
    recorded = (marker.load(run.project) or {}).get("apps", {})
    loader = run.django.loader()
    names = {}
    for label in run.apps:
        entry = recorded.get(label)
        names[label] = set(entry["new"]) if entry and entry.get("new") else _disk_names(loader, label)
    return names


def _new_names(run: Run, loader: "MigrationLoader", label: str) -> list[str]:
    """The migrations the reset recorded for ``label``: from reset-history.json, else the files."""
    on_disk = _disk_names(loader, label)
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


@step("rewrite-history", destructive=True)
def rewrite_history(run: Run) -> None:
    """Replace the listed apps' rows in django_migrations with the new migrations, in one transaction."""
    from django.db import transaction
    from django.db.migrations.executor import MigrationExecutor
    from django.db.migrations.operations import AddField, CreateModel
    from django.db.migrations.recorder import MigrationRecorder

    run.django.forget_migration_modules(run.apps)
    if run.dry and run.state.get("files_cleaned"):
        # The old files are still there in a dry run: say what will be recorded.
        predicted = run.django.predict_new_migrations(run.apps)
        names = ", ".join(f"{label}.{m.name}" for label, ms in predicted.items() for m in ms)
        for alias in run.aliases:
            run.actions.do(f"{alias}: in one transaction, delete the rows of {', '.join(run.apps)}, record {names} and the carried data migrations")
        return
    for alias in run.aliases:
        connection = run.django.connection(alias)
        executor = MigrationExecutor(connection)
        loader = executor.loader
        recorded = _recorded(run, alias)
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
                        migration = loader.disk_migrations[(label, name)]
                        creates = any(isinstance(op, (CreateModel, AddField)) for op in migration.operations)
                        if creates and not executor.detect_soft_applied(None, migration)[0]:
                            raise StepFailed(f"{alias}: the tables or columns of {label}.{name} are not all in the database; nothing was recorded")
                recorder.Migration.objects.using(alias).bulk_create(rows)
                # Migrations newer than the reset may stay unapplied: migrate runs them next.
                inconsistent, unapplied = history_state(run, alias)
                missed = [f"{app}.{name}" for app, name in unapplied if name in new.get(app, ())]
                if inconsistent or missed:
                    problem = inconsistent or f"still unapplied: {', '.join(missed)}"
                    raise StepFailed(f"{alias}: the new history does not hold ({problem}); nothing was recorded")

        count = forget.count()
        run.actions.do(f"{alias}: delete {count} rows of {', '.join(labels)} and record {described} (one transaction)", rewrite)
        later = history_state(run, alias)[1]
        run.out.info(f"{alias}: consistent" + (f"; migrate will apply {len(later)} newer migration(s)" if later else "; migrate --check passes"))


@step("check-applied", read_only=True)
def check_applied(run: Run) -> None:
    """Tell whether this database still needs the reset: stop if already done, refuse if it was behind."""
    data = marker.load(run.project)
    if data is None:
        raise Refused(f"no {marker.NAME} next to reset.yaml: reset once (it records what the new files replace), commit, deploy")
    run.django.forget_migration_modules(run.apps)
    loader = run.django.loader()
    pending = []
    for alias in run.aliases:
        recorded = _recorded(run, alias)
        for label in run.apps:
            state = _switch_state(run, loader, label, recorded[label])
            run.out.info(f"{alias}: {label}: {state}")
            if state == "pending":
                pending.append(f"{alias}:{label}")
    if not pending:
        raise NothingToDo(f"the reset of {data.get('reset_at', '?')} is already applied here; nothing to do")
    run.out.info(f"the reset of {data.get('reset_at', '?')} still has to be applied ({', '.join(pending)})")
