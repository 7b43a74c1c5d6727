"""verify: prove the live schema is the one the new migrations build.

Builds the new migrations into a scratch database of the same engine (in
memory before the files change; from the files afterwards), compares both
schemas through Django's introspection, and runs Django's history checks.
"""
from __future__ import annotations

import io
import secrets

from djreset import graphs, inventory, marker, schema
from djreset.actions import Actions
from djreset.errors import StepFailed
from djreset.registry import step
from djreset.run import Run
from djreset.steps.checks import history_state, pending_model_changes
from djreset.steps.rewrite import disk_names, reset_names
from djreset.ui import Output


def _quiet() -> Actions:
    return Actions(Output(io.StringIO()), dry=False)


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


# Steps that never change a schema: a live snapshot taken before them still holds after.
SCHEMA_NEUTRAL = {"check", "verify", "clean-files", "makemigrations", "rewrite-history", "fake-zero", "backup", "check-applied"}


def _files_are_reset(run: Run) -> bool:
    """Are the migration files on disk the ones a reset wrote (reset-history.json's "new")?"""
    if "clean-files" in run.state.get("steps_ahead", ()):
        return False  # this very recipe is about to replace them
    recorded = (marker.load(run.project) or {}).get("apps", {})
    loader = run.django.loader()
    return bool(recorded) and all(
        set(recorded[label].get("new") or ()) <= disk_names(loader, label) for label in run.apps if label in recorded
    )


def _build(run: Run, alias: str, scratch_alias: str) -> str:
    """Build the new migrations into the scratch database; say from what."""
    if _files_are_reset(run):
        # Migrations newer than the reset that are not applied yet are migrate's
        # business: build what the live database has recorded.
        from django.db.migrations.recorder import MigrationRecorder

        applied = set(MigrationRecorder(run.django.connection(alias)).applied_migrations())
        graphs.apply_to_empty(run.django, scratch_alias, run.django.loader().graph, applied)
        return "the migration files on disk"
    # Before the files change (or in a project never reset): what the reset
    # will write.  check has proved models and migrations agree.
    loader = run.django.loader()
    carries = inventory.plan_carries(loader, inventory.find(loader, run.apps), run.project.data_migrations)
    graphs.create_from_models(run.django, scratch_alias, graphs.predict(run.django, run.apps, carries).carried)
    return "the migrations the reset will write (the models they create, plus the kept data migrations)"


def _live_snapshot(run: Run, alias: str, tables: set[str]) -> dict:
    """Introspect the live database, or reuse the snapshot of an earlier verify
    when only schema-neutral steps ran since."""
    done = run.state.setdefault("steps_done", [])
    cached = run.state.setdefault("live_snapshots", {}).get(alias)
    if cached and cached[1] == tables and set(done[cached[0]:]) <= SCHEMA_NEUTRAL:
        return cached[2]
    snapshot = schema.snapshot(run.django.connection(alias), tables)
    run.state["live_snapshots"][alias] = (len(done), tables, snapshot)
    return snapshot


def compare_with_scratch(run: Run, alias: str) -> tuple[schema.Diff, str]:
    """Build the new migrations into a scratch database; diff it with ``alias``."""
    scratch = run.engine(alias).scratch(secrets.token_hex(3))
    quiet = _quiet()
    scratch.drop(quiet, if_exists=True, force=True)
    scratch.create(quiet)
    settings = scratch.django_settings()
    if scratch.spec.admin_user:  # the scratch database is the admin's, not the app's
        settings.update(USER=scratch.spec.admin_user, PASSWORD=scratch.spec.admin_password or "")
    try:
        run.django.add_connection(scratch.alias, settings)
        source = _build(run, alias, scratch.alias)
        tables = _tables(run, alias)
        expected = schema.snapshot(run.django.connection(scratch.alias), tables)
    finally:
        run.django.remove_connection(scratch.alias)
        scratch.drop(quiet, if_exists=True, force=True)
    return schema.compare(_live_snapshot(run, alias, tables), expected), source


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
        expected_names = reset_names(run)
        missed = [f"{app}.{name}" for app, name in unapplied if name in expected_names.get(app, ())]
        later = [f"{app}.{name}" for app, name in unapplied if name not in expected_names.get(app, ())]
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
