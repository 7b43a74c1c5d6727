"""record-new, rewrite-history and check-applied: the listed apps' rows in django_migrations.

The new migrations replace the old ones (``replaces``), so on every other
environment plain ``manage.py migrate`` records them.  In the reset
environment itself, ``record-new`` does what that migrate would: it records
them beside the old rows, which stay (the previous release still works).
``rewrite-history`` is the immediate swap, for a team with one database: it
retires at once, the ``replaces`` lists leave the new files (Django counts a
replacing migration as applied only while every migration it replaces is) and
the old rows leave django_migrations as the new ones are recorded, in one
transaction.  Both hold the database's own lock (PostgreSQL advisory lock,
MySQL GET_LOCK, SQLite BEGIN IMMEDIATE) and decide again under it, so two
machines running them at once against one database change it once.
"""
from __future__ import annotations

from djreset import state
from djreset.bridge import graphs, history, replacing
from djreset.errors import NothingToDo, Refused, StepFailed
from djreset.registry import step
from djreset.run import Run
from djreset.safety import faults


def _describe_predicted(run: Run, swap: bool) -> None:
    """A dry run after clean-files: the old files are still there; say what will be recorded."""
    predicted = graphs.predict(run.django, run.apps).new
    names = ", ".join(f"{label}.{m.name}" for label, ms in predicted.items() for m in ms)
    if swap:
        run.actions.do("remove replaces from the new migrations (the immediate swap retires at once)")
    deleted = f"delete the replaced rows of {', '.join(run.apps)}, " if swap else ""
    for alias in run.aliases:
        run.actions.do(f"{alias}: in one transaction, {deleted}record {names} and the carried data migrations")


def check_transactional(run: Run) -> None:
    """The change is one transaction: refuse, before anything, a django_migrations that has none."""
    for alias in run.aliases:
        problem = run.engine(alias).history_problem(history.table_name())
        if problem:
            raise Refused(problem)


def _change_history(run: Run, swap: bool) -> None:
    name = "rewrite-history" if swap else "record-new"
    if run.dry and run.state.files_cleaned:
        _describe_predicted(run, swap)
        return
    conflicting = graphs.conflicts(run.django.loader())
    if conflicting:
        raise Refused(f"{conflicting}: migrate would refuse these files, so the history is not changed; nothing was changed")
    found = history.resets(run.django, run.apps)
    if not found:
        raise Refused(f"the migrations of {', '.join(run.apps)} replace nothing, and {state.RESET_HISTORY} records no reset: "
                      "nothing to record (reset first: clean-files and makemigrations write the replacing migrations)")
    planned = {alias: history.plan_change(run.django, alias, found, swap) for alias in run.aliases}  # refuses first
    if swap:
        _drop_replaces(run)
    for alias, change in planned.items():
        if change.empty:
            run.out.info(f"{alias}: nothing to do ({change.describe_standings()})")
            continue
        lock = run.engine(alias).history_lock()
        midway = lambda: faults.point(f"inside:{name}")  # noqa: E731
        done = run.actions.do(change.describe(), lambda a=alias, held=lock, m=midway: history.change(run.django, a, found, held, swap, m))
        if done is None:
            continue
        if done.empty:
            run.out.info(f"{alias}: another run changed it first; nothing to do ({done.describe_standings()})")
            continue
        _prove(run, alias)


def _drop_replaces(run: Run) -> None:
    """The immediate swap retires at once: the new files lose their replaces lists first."""
    loader = run.django.loader()
    stale = replacing.stale_references(loader, replacing.replaced_by(loader, run.apps))
    if stale:
        raise Refused("rewrite-history refused, nothing was changed: other apps still name replaced migrations\n"
                      + "\n".join(f"  {line}" for line in stale))
    for path, source in replacing.retired_files(loader, run.apps):
        run.actions.do(f"remove replaces from {run.relative(path)}", lambda p=path, s=source: p.write_text(s, encoding="utf-8"))
    run.django.forget_migration_modules(run.apps)


def _prove(run: Run, alias: str) -> None:
    """Say "consistent" only after migrate --check's own checks ran on a loader
    built afresh from the files on disk."""
    run.django.forget_migration_modules(run.apps)
    problem, later = history.history_state(run.django, alias)
    if problem:
        raise StepFailed(f"{alias}: after the rewrite, {problem}")
    run.out.info(f"{alias}: consistent" + (f"; migrate will apply {len(later)} newer migration(s)" if later else "; migrate --check passes"))


@step("record-new", destructive=True, changes_schema=False, precheck=check_transactional)
def record_new(run: Run) -> None:
    """Record the new migrations where the old ones they replace are applied (what migrate does); the old rows stay."""
    _change_history(run, swap=False)


def _replaced_ahead(run: Run) -> set[tuple[str, str]]:
    """The old migrations of the reset this run makes (clean-files ahead: the split of the files on
    disk, squash originals included), else of the reset the files carry."""
    loader = run.django.loader()
    if not any(spec.replaces_files for spec in run.state.steps_ahead):
        return set(replacing.replaced_by(loader, run.apps))
    splits, _ = replacing.split(loader, run.apps, run.project.partial)
    return {(label, name) for label, value in splits.items() for name in value.replaced}


def check_swap(run: Run) -> None:
    """rewrite-history removes replaces at once: refuse, before anything changes, while a migration of an
    app outside ``apps`` names one the reset replaces (Django could not load it after the swap)."""
    check_transactional(run)
    old = _replaced_ahead(run)
    named = [
        f"{app}.{name} names {target[0]}.{target[1]}, which the reset replaces"
        for (app, name), _, target, _ in replacing.references(run.django.loader(), run.apps)
        if target in old
    ]
    if named:
        raise Refused("rewrite-history refused, nothing was changed: it removes replaces at once, and Django could not load "
                      "these migrations of other apps afterwards:\n" + "\n".join(f"  {line}" for line in named)
                      + "\n  use record-new instead (the team workflow), and point each at the reset's new migration before `djreset retire`")


@step("rewrite-history", destructive=True, changes_schema=False, precheck=check_swap)
def rewrite_history(run: Run) -> None:
    """Retire at once (one database teams): replaces leaves the new files, and the old rows django_migrations as the new are recorded."""
    _change_history(run, swap=True)


@step("check-applied", changes_schema=False, read_only=True)
def check_applied(run: Run) -> None:
    """Tell whether this database still needs the reset: stop if already done, refuse if it was behind."""
    found = history.resets(run.django, run.apps)
    if not found:
        raise Refused(f"no reset to apply: the listed apps' migrations replace nothing and there is no {state.RESET_HISTORY}")
    data = state.load_reset_history(run.project) or {}
    pending = []
    for alias in run.aliases:
        where = history.standings(run.django, alias, found)
        for label, value in where.items():
            run.out.info(f"{alias}: {value.describe(label)}")
        unsafe = [value.describe(label) for label, value in where.items() if not value.standing.safe]
        if unsafe:
            raise Refused(f"{alias}: {'; '.join(unsafe)}: deploy the release before the reset, run migrate, then apply the reset")
        pending += [f"{alias}:{label}" for label, value in where.items() if value.standing.name in ("OLD", "RECORDED")]
    if not pending:
        raise NothingToDo(f"the reset of {data.get('reset_at', '?')} is already applied here; nothing to do")
    run.out.info(f"the reset of {data.get('reset_at', '?')} still has to be applied ({', '.join(pending)})")
