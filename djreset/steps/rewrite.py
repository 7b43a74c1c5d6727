"""rewrite-history and check-applied: the listed apps' rows in django_migrations.

In the keep recipe rewrite-history follows makemigrations; on every other
environment, once the new files are deployed::

    steps: [check-applied, backup, rewrite-history, verify]
"""
from __future__ import annotations

from djreset import state
from djreset.bridge import graphs, history
from djreset.errors import NothingToDo, Refused, StepFailed
from djreset.registry import step
from djreset.run import Run
from djreset.safety import faults


def _describe_predicted(run: Run) -> None:
    """A dry run after clean-files: the old files are still there; say what will be recorded."""
    predicted = graphs.predict(run.django, run.apps).new
    names = ", ".join(f"{label}.{m.name}" for label, ms in predicted.items() for m in ms)
    for alias in run.aliases:
        run.actions.do(f"{alias}: in one transaction, delete the rows of {', '.join(run.apps)}, record {names} and the carried data migrations")


def check_transactional(run: Run) -> None:
    """The rewrite is one transaction: refuse, before anything, a django_migrations that has none."""
    for alias in run.aliases:
        problem = run.engine(alias).history_problem(history.table_name())
        if problem:
            raise Refused(problem)


@step("rewrite-history", destructive=True, changes_schema=False, precheck=check_transactional)
def rewrite_history(run: Run) -> None:
    """Replace the listed apps' rows in django_migrations with the new migrations, in one transaction."""
    if run.dry and run.state.files_cleaned:
        _describe_predicted(run)
        return
    conflicting = graphs.conflicts(run.django.loader())
    if conflicting:
        raise Refused(f"{conflicting}: migrate would refuse these files, so the history is not rewritten; nothing was changed")
    for alias in run.aliases:
        planned = history.plan_swap(run.django, alias, run.apps)
        if not planned.labels:
            run.out.info(f"{alias}: already rewritten ({planned.describe_states()})")
            continue
        midway = lambda: faults.point("inside:rewrite-history")  # noqa: E731
        run.actions.do(planned.describe(), lambda p=planned, m=midway: history.swap(run.django, p, m))
        if not run.dry:
            _prove(run, alias)


def _prove(run: Run, alias: str) -> None:
    """Say "consistent" only after migrate --check's own checks ran on a loader
    built afresh from the files on disk."""
    run.django.forget_migration_modules(run.apps)
    problem, later = history.history_state(run.django, alias)
    if problem:
        raise StepFailed(f"{alias}: after the rewrite, {problem}")
    run.out.info(f"{alias}: consistent" + (f"; migrate will apply {len(later)} newer migration(s)" if later else "; migrate --check passes"))


@step("check-applied", changes_schema=False)
def check_applied(run: Run) -> None:
    """Tell whether this database still needs the reset: stop if already done, refuse if it was behind."""
    data = state.load_reset_history(run.project)
    if data is None:
        raise Refused(f"no {state.RESET_HISTORY} next to reset.yaml: reset once (it records what the new files replace), commit, deploy")
    pending = []
    for alias in run.aliases:
        recorded = history.recorded_names(run.django, alias, run.apps)
        for label in run.apps:
            value = history.switch_state(run.django, label, recorded[label])
            run.out.info(f"{alias}: {label}: {value}")
            if value == "pending":
                pending.append(f"{alias}:{label}")
    if not pending:
        raise NothingToDo(f"the reset of {data.get('reset_at', '?')} is already applied here; nothing to do")
    run.out.info(f"the reset of {data.get('reset_at', '?')} still has to be applied ({', '.join(pending)})")
