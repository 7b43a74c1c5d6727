"""check: refuse a keep-the-database reset that would lose something (runs first, and in plan)."""
from __future__ import annotations

from djreset.bridge import data_migrations, graphs, history
from djreset.errors import Refused
from djreset.registry import step
from djreset.run import Run


def _problems(run: Run) -> tuple[list[str], list[data_migrations.SpecialOperation]]:
    problems: list[str] = []
    changes = history.pending_model_changes(run.django)
    if changes:
        problems.append("models have changes without a migration (run makemigrations and migrate first):\n" + "\n".join(f"    {c}" for c in changes))
    for alias in run.aliases:
        unapplied = history.history_problems(run.django, alias)
        if unapplied:
            problems.append("the database is not fully migrated (migrate first; these would be lost):\n" + "\n".join(f"    {u}" for u in unapplied))
    reset = graphs.predict(run.django, run.apps)
    for (app, name), (dep_app, dep_name) in reset.broken:
        problems.append(f"{app}.{name} depends on {dep_app}.{dep_name}, which the reset removes: add {app!r} to apps")
    operations = data_migrations.find(run.django.loader(), run.apps)
    undecided = [op for op in operations if data_migrations.decision(op, run.project.data_migrations) is None]
    if undecided:
        problems.append(data_migrations.undecided_message(undecided, run.project.root))
    return problems, operations


@step("check", changes_schema=False)
def check(run: Run) -> None:
    """Refuse a keep-the-database reset that would lose something (runs in plan too)."""
    problems, operations = _problems(run)
    if problems:
        for problem in problems:
            run.out.info(f"✗ {problem}")
        raise Refused(f"check: {len(problems)} problem(s), nothing was changed (details above)")
    for op in operations:
        run.out.info(f"{data_migrations.decision(op, run.project.data_migrations)}: {op.describe(run.project.root)}")
    run.out.info(f"check: ok ({len(run.apps)} apps, {', '.join(run.aliases)})")
