"""verify: prove the live schema is the one the new migrations build.

Before the files change (or in a project never reset) it builds what the
reset will write into a scratch database of the same engine: the project's
models, created directly by the schema editor as the new initial migrations
would, around the kept data migrations.  It compares that with the live
schema through the engine's catalog (``engines/catalog``).

After the files changed, in the same run, it does not build again: it proves
the files on disk are the ones it compared (``makemigrations --check``: their
state is the models'; the kept data migrations on disk are the ones that ran
on the scratch database), and that the live schema was not touched since.
In a run of its own it builds the files on disk.  Then Django's history
checks and ``makemigrations --check``.
"""
from __future__ import annotations

from typing import Any

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


def _predicted(run: Run) -> tuple["graphs.ResetGraph", Any]:
    """The reset as it will be (in memory), and the graph after it."""
    loader = run.django.loader()
    kept = graphs.kept_migrations(run.django, run.apps)
    carries = data_migrations.plan_carries(loader, data_migrations.find(loader, run.apps, kept), run.project.data_migrations)
    reset = graphs.predict(run.django, run.apps, carries)
    return reset, graphs.after_reset_graph(run.django, run.apps, reset)


def _models_are_the_files(run: Run, alias: str) -> bool:
    """Creating the models stands for running the files on disk: makemigrations
    --check holds, everything on disk is applied, and every operation
    makemigrations cannot re-create is in a carried migration (which runs)."""
    loader = run.django.loader()
    if history.pending_model_changes(run.django) or history.history_state(run.django, alias) != (None, []):
        return False
    # A migration after the reset's (a later change, a partial reset's kept one) runs after the
    # carried ones on a fresh database: today's tables would not be what they saw.
    recorded = state.reset_apps(run.project)
    if any(history.disk_names(loader, label) - set(recorded.get(label, {}).get("new") or ()) for label in run.apps):
        return False
    return all(
        getattr(migration, data_migrations.CARRIED, None) or op.index in (getattr(migration, data_migrations.INLINED, None) or {})
        for op in data_migrations.find(loader, run.apps)
        for migration in [loader.disk_migrations[(op.app, op.migration)]]
    )


def _what_to_build(run: Run, alias: str) -> tuple[str, list | None, set | None, Any]:
    """(what the scratch database is built from, the carried migrations to run
    around the models or None, the applied migrations to replay or None, the
    graph the carried migrations run in)."""
    if not _files_are_reset(run):
        reset, graph = _predicted(run)
        if graph is not None and reset.kept:
            # A partial reset's kept migrations change the models after the carried ones ran: migrate it all.
            return "the migrations the reset will write, and the ones it keeps, migrated in order", None, set(graph.nodes), graph
        return "the migrations the reset will write (the models they create, plus the kept data migrations)", graphs.carried_in_memory(reset), None, graph
    loader = run.django.loader()
    if _models_are_the_files(run, alias):
        carried = graphs.carried_on_disk(loader, run.apps)
        return "the migration files on disk (the models they create, proven by makemigrations --check, plus their kept data migrations)", carried, None, loader.graph
    # Migrations newer than the reset that are not applied yet are migrate's
    # business: build what the live database has applied, as Django sees it
    # (a new migration counts while every migration it replaces is recorded).
    return "the migration files on disk", None, set(run.django.loader(alias).applied_migrations), loader.graph


def _live_snapshot(run: Run, alias: str, tables: frozenset[str]) -> schema.Snapshot:
    """Read the live schema, or reuse what an earlier verify read when no step
    that may change a schema ran since."""
    cached = run.django.live_snapshots.get(alias)
    if cached and cached[0] == tables:
        return cached[1]
    snapshot = schema.snapshot(run.django.connection(alias), tables, run.engine(alias).catalog())
    run.django.live_snapshots[alias] = (tables, snapshot)
    return snapshot


def compare_with_scratch(run: Run, alias: str) -> tuple[schema.Diff, str]:
    """Build the new migrations into a scratch database; diff it with ``alias``."""
    tables = frozenset(model._meta.db_table for model in run.django.migratable_models(alias, run.apps))
    source, carried, applied, graph = _what_to_build(run, alias)
    reused = _reuse(run, alias, carried, source)
    if reused:
        return reused
    live = _live_snapshot(run, alias, tables)  # read before the scratch database takes its place
    building = run.out.progress(f"{alias}: building a scratch database from {len(tables)} tables' migrations")
    with building as progress, run.scratch_database(alias) as scratch:
        if applied is None:
            graphs.create_from_models(run.django, scratch, carried, graph, progress)
        else:
            graphs.apply_to_empty(run.django, scratch, graph, applied, progress)
        expected = schema.snapshot(run.django.connection(scratch), tables, run.engine(alias).catalog())
        faults.point("inside:verify")
    diff = schema.compare(live, expected, run.project.verify_accept)
    if carried is not None:
        run.state.compared[alias] = (graphs.fingerprint(carried), diff, source)
    return diff, source


def _reuse(run: Run, alias: str, carried: list | None, source: str) -> tuple[schema.Diff, str] | None:
    """The comparison an earlier verify of this run made, if it still holds:
    the live schema untouched since, and the same migrations to build."""
    earlier = run.state.compared.get(alias)
    if carried is None or earlier is None or alias not in run.django.live_snapshots:
        return None
    compared, diff, built = earlier
    if graphs.fingerprint(carried) != compared:
        return None
    if built == source:
        return diff, f"{source.split(' (')[0]}, as the earlier verify built and compared them"
    return diff, f"{source.split(' (')[0]}: the migrations the earlier verify built and compared (same models, same kept data migrations)"


def _history_problems(run: Run, alias: str) -> list[str]:
    inconsistent, unapplied = history.history_state(run.django, alias)
    expected = history.expected_names(run.django, run.apps)
    missed = [f"{app}.{name}" for app, name in unapplied if name in expected.get(app, ())]
    later = [f"{app}.{name}" for app, name in unapplied if name not in expected.get(app, ())]
    problems = [inconsistent] if inconsistent else [f"{key} is not applied" for key in missed]
    run.out.found("history_problems", [{"database": alias, "problem": problem} for problem in problems])
    for problem in problems:
        run.out.info(f"✗ {alias}: {problem}")
    if not problems:
        run.out.info(f"{alias}: history consistent, " + (f"migrate will apply {', '.join(later)}" if later else "nothing to migrate"))
    return problems


def _report(run: Run, alias: str, diff: schema.Diff, source: str) -> int:
    for warning in diff.warnings:
        run.out.warn(warning)
    for difference, entry in diff.accepted:
        run.out.info(f"accepted ({entry!r} in reset.yaml): {difference}")
    for error in diff.errors:
        run.out.info(f"✗ {error}")
    run.out.found("differences", [{"database": alias, "difference": error} for error in diff.errors])
    run.out.found("accepted", [{"database": alias, "difference": difference, "accepted_by": entry} for difference, entry in diff.accepted])
    verdict = "matches" if not diff.errors else f"differs in {len(diff.errors)} place(s) from"
    accepted = f" (with {len(diff.accepted)} accepted difference(s))" if diff.accepted else ""
    run.out.info(f"{alias}: the live schema {verdict} the schema built from {source}{accepted}")
    return len(diff.errors)


def _verify_prediction(run: Run) -> None:
    """A dry run after (dry) clean-files: the files and history on disk are
    not what the reset leaves, so only the prediction can be checked, and is."""
    failures = sum(_report(run, alias, *compare_with_scratch(run, alias)) for alias in run.aliases)
    if failures:
        raise StepFailed(f"verify: {failures} difference(s) between the live schema and the predicted new migrations (details above)")
    run.out.found("not_checked", ["history", "makemigrations --check"])
    run.out.info("verify (dry run): checked the live schema against the predicted new migrations only; "
                 "the history and makemigrations --check are checked on the new files when the reset runs")


@step("verify", changes_schema=False, read_only=True)
def verify(run: Run) -> None:
    """Prove the live schema equals what the new migrations build, and the history is consistent."""
    if run.dry and run.state.files_cleaned:
        _verify_prediction(run)
        return
    failures = 0
    for alias in run.aliases:
        failures += _report(run, alias, *compare_with_scratch(run, alias))
        failures += len(_history_problems(run, alias))
    changes = history.pending_model_changes(run.django)
    run.out.found("model_changes", changes)
    for change in changes:
        run.out.info(f"✗ no migration for {change}")
    failures += len(changes)
    if failures:
        raise StepFailed(f"verify: {failures} difference(s); nothing was recorded (details above)")
    run.out.info("verify: ok (schema, history, makemigrations --check)")
