"""check: refuse a keep-the-database reset that would lose something (runs first, and in plan).

Everything that would make a later step fail is found here, before anything
changes, and all of it in one run: models ahead of their migrations, unapplied
migrations, an app outside the list tied to a migration the reset removes, a
graph after the reset that Django would not load, data migrations without a
decision or that cannot be carried, and kept ones that fail on the new history
(each is run on a scratch database).
"""
from __future__ import annotations

from djreset import state
from djreset.bridge import data_migrations, graphs, history, triage
from djreset.errors import Refused, StepFailed
from djreset.registry import step
from djreset.run import Run, failing_carries


def _database_problems(run: Run) -> list[str]:
    problems: list[str] = []
    changes = history.pending_model_changes(run.django)
    if changes:
        problems.append("models have changes without a migration (run makemigrations and migrate first):\n" + "\n".join(f"    {c}" for c in changes))
    for alias in run.aliases:
        unapplied = history.history_problems(run.django, alias)
        if unapplied:
            problems.append("the database is not fully migrated (migrate first; these would be lost):\n" + "\n".join(f"    {u}" for u in unapplied))
        problems += history.unrecorded_squashes(run.django, alias, run.apps)
    return problems


def _unmigrated_apps(run: Run) -> list[str]:
    """Listed apps whose tables were made without migrations: there is no history to keep."""
    loader = run.django.loader()
    return [
        f"{label} has no migrations (its tables were made without them): remove {label!r} from apps, or give it "
        f"migrations first (manage.py makemigrations {label}; manage.py migrate {label} --fake-initial)"
        for label in run.apps
        if label in loader.unmigrated_apps and run.django.migratable_models(run.aliases[0], [label])
    ]


def _reset_problems(run: Run) -> tuple[list[str], list[data_migrations.SpecialOperation]]:
    loader = run.django.loader()
    policy = run.project.data_migrations
    kept = graphs.kept_migrations(run.django, run.apps)
    operations, problems = data_migrations.decision_problems(loader, run.apps, policy, run.project.root, kept)
    # The kept operations that can be carried are tried even while others wait for a decision.
    stuck = set(data_migrations.undecidable(loader, operations, policy))
    carries = data_migrations.plan_carries(loader, [op for op in operations if op not in stuck], policy)
    reset = graphs.predict(run.django, run.apps, carries)
    problems = reset.refusals() + _unmigrated_apps(run) + problems
    if not reset.refusals() and (reset.carried or reset.inlined):
        problems += [
            f"kept data migration {origin} fails on the new history: {error}; fix its code (it runs with the models after "
            f"the reset), or move it to data_migrations.drop (a fresh database then lacks what it creates)"
            for origin, error in failing_carries(run, reset).items()
        ]
    return problems, operations


def check_decisions(run: Run, call: object) -> None:
    triage.refuse_unknown_decisions(run.django.loader(), run.apps, run.project.data_migrations, state.reset_apps(run.project))


@step("check", changes_schema=False, read_only=True, check_call=check_decisions)
def check(run: Run) -> None:
    """Refuse a keep-the-database reset that would lose something (runs in plan too)."""
    try:
        problems, operations = _reset_problems(run)
    except StepFailed as failure:
        problems, operations = [str(failure)], []
    problems = _database_problems(run) + problems
    policy, root = run.project.data_migrations, run.project.root
    run.out.found("problems", problems)
    run.out.found("data_migrations", [op.to_json(root, data_migrations.decision(op, policy)) for op in operations])
    if problems:
        for problem in problems:
            run.out.info(f"✗ {problem}")
        raise Refused(f"check: {len(problems)} problem(s), nothing was changed (details above)")
    for op in operations:
        run.out.info(f"{data_migrations.decision(op, run.project.data_migrations)}: {op.describe(run.project.root)}")
    run.out.info(f"check: ok ({len(run.apps)} apps, {', '.join(run.aliases)})")
