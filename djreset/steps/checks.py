"""check: refuse a keep-the-database reset that would lose something.

It runs first in the keep recipe (and in plan).  The history helpers here
are Django's own checks, shared by verify and rewrite-history.
"""
from __future__ import annotations

from djreset import graphs, inventory
from djreset.errors import Refused
from djreset.registry import step
from djreset.run import Run


def pending_model_changes(run: Run) -> list[str]:
    """What ``makemigrations --check`` would report, for every app (once per set of files)."""
    loader = run.django.loader()
    cached = run.state.get("pending_changes")
    if cached and cached[0] is loader:
        return cached[1]
    changes = _pending_model_changes(run)
    run.state["pending_changes"] = (loader, changes)
    return changes


def _pending_model_changes(run: Run) -> list[str]:
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

    executor = run.django.executor(alias)
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


