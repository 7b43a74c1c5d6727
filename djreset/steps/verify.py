"""verify: prove the live schema is the one the new migrations build.

Builds the new migrations into a scratch database of the same engine (in
memory before the files change; from the files afterwards), compares both
schemas through Django's introspection, and runs Django's history checks.
"""
from __future__ import annotations

from djreset import state
from djreset.bridge import data_migrations, graphs, history, schema
from djreset.errors import StepFailed
from djreset.registry import step
from djreset.run import Run
from djreset.safety import faults


def _files_are_reset(run: Run) -> bool:
    """Are the migration files on disk the ones a reset wrote (reset-history.json's "new")?"""
    if any(spec.replaces_files for spec in run.state.steps_ahead):
        return False  # this very recipe is about to replace them
    recorded = state.reset_apps(run.project)
    loader = run.django.loader()
    return bool(recorded) and all(
        set(recorded[label].get("new") or ()) <= history.disk_names(loader, label) for label in run.apps if label in recorded
    )


def _build(run: Run, alias: str, scratch_alias: str, applied: set | None) -> str:
    """Build the new migrations into the scratch database; say from what."""
    if applied is not None:
        # Migrations newer than the reset that are not applied yet are migrate's
        # business: build what the live database has recorded.
        graphs.apply_to_empty(run.django, scratch_alias, run.django.loader().graph, applied)
        return "the migration files on disk"
    # Before the files change (or in a project never reset): what the reset
    # will write.  check has proved models and migrations agree.
    loader = run.django.loader()
    carries = data_migrations.plan_carries(loader, data_migrations.find(loader, run.apps), run.project.data_migrations)
    graphs.create_from_models(run.django, scratch_alias, graphs.predict(run.django, run.apps, carries).carried)
    return "the migrations the reset will write (the models they create, plus the kept data migrations)"


def _live_snapshot(run: Run, alias: str, tables: frozenset[str]) -> dict:
    """Introspect the live database, or reuse the snapshot of an earlier verify
    when no step that may change a schema ran since."""
    cached = run.django.live_snapshots.get(alias)
    if cached and cached[0] == tables:
        return cached[1]
    snapshot = schema.snapshot(run.django.connection(alias), tables)
    run.django.live_snapshots[alias] = (tables, snapshot)
    return snapshot


def compare_with_scratch(run: Run, alias: str) -> tuple[schema.Diff, str]:
    """Build the new migrations into a scratch database; diff it with ``alias``."""
    tables = frozenset(model._meta.db_table for model in run.django.migratable_models(alias, run.apps))
    # Read from the live database before the scratch one takes its place.
    applied = set(history.recorder(run.django, alias).applied_migrations()) if _files_are_reset(run) else None
    with run.scratch_database(alias) as scratch:
        source = _build(run, alias, scratch, applied)
        expected = schema.snapshot(run.django.connection(scratch), tables)
        faults.point("inside:verify")
    return schema.compare(_live_snapshot(run, alias, tables), expected), source


def _history_problems(run: Run, alias: str) -> list[str]:
    inconsistent, unapplied = history.history_state(run.django, alias)
    expected = history.expected_names(run.django, run.apps)
    missed = [f"{app}.{name}" for app, name in unapplied if name in expected.get(app, ())]
    later = [f"{app}.{name}" for app, name in unapplied if name not in expected.get(app, ())]
    problems = [inconsistent] if inconsistent else [f"{key} is not applied" for key in missed]
    for problem in problems:
        run.out.info(f"✗ {alias}: {problem}")
    if not problems:
        run.out.info(f"{alias}: history consistent, " + (f"migrate will apply {', '.join(later)}" if later else "nothing to migrate"))
    return problems


@step("verify", changes_schema=False)
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
        verdict = "matches" if not diff.errors else f"differs in {len(diff.errors)} place(s) from"
        run.out.info(f"{alias}: the live schema {verdict} the schema built from {source}")
        failures += len(_history_problems(run, alias))
    changes = history.pending_model_changes(run.django)
    for change in changes:
        run.out.info(f"✗ no migration for {change}")
    failures += len(changes)
    if failures:
        raise StepFailed(f"verify: {failures} difference(s); nothing was recorded (details above)")
    run.out.info("verify: ok (schema, history, makemigrations --check)")
