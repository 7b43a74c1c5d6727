"""A recipe is an ordered list of steps; this runs one, nox-workflow style.

Each step is looked up in the registry and called with its options.  The
runner checks, confirms, backs up before the first destructive step, times
every step, journals it, and ends with a summary.  If a step fails or the
process is interrupted (Ctrl-C, SIGTERM), it puts the backup back.  It knows
nothing about what the steps do.
"""
from __future__ import annotations

import signal
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator, Sequence

from djreset import faults, registry
from djreset.config import StepCall
from djreset.confirm import confirm
from djreset.errors import DjresetError, NothingToDo, Refused
from djreset.journal import Journal, describe_unfinished, project_lock
from djreset.run import Run


@dataclass
class StepResult:
    call: StepCall
    status: str  # "ok", "failed", "skipped", "not needed"
    seconds: float = 0.0


class Interrupted(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C: stop, roll back, exit."""


def call_step(run: Run, call: StepCall) -> None:
    spec = registry.get(call.name)
    if spec.argument:
        spec.func(run, call.argument)
    else:
        spec.func(run, **call.options)


def describe_targets(run: Run) -> None:
    run.out.write(f"project  {run.project.root} ({run.project.settings})")
    run.out.write(f"apps     {', '.join(run.apps)}")
    for alias in run.aliases:
        run.out.write(f"database {alias}: {run.engine(alias).describe()}")


def _destructive(calls: Sequence[StepCall]) -> bool:
    return any(registry.get(call.name).destructive for call in calls)


def prechecks(run: Run, calls: Sequence[StepCall]) -> None:
    """Refusals that must leave nothing behind: before the prompt, the backup, the journal."""
    run.django.check_apps(run.apps)
    for name in dict.fromkeys(call.name for call in calls):
        precheck = registry.get(name).precheck
        if precheck:
            precheck(run)


def needs_backup(run: Run, calls: Sequence[StepCall]) -> bool:
    """Back up first unless the recipe itself backs up before its first destructive step."""
    if run.dry or not run.project.backups_enabled:
        return False
    for call in calls:
        if call.name in ("backup", "restore"):
            return call.name == "restore"  # a restore is itself undoable
        if registry.get(call.name).destructive:
            return True
    return False


def automatic_backup(run: Run, calls: Sequence[StepCall]) -> None:
    from djreset import backup

    drops = any(call.name == "drop-db" for call in calls)
    run.out.write("\n==> backup (automatic, before the first destructive step)")
    begin = time.perf_counter()
    names = [call.name for call in calls]
    reason = "before restore" if "restore" in names else "before reset" if len(names) > 1 else f"before {names[0]}"
    run.state["backup"] = backup.create(run, with_database=drops and run.project.dump_database, reason=reason)
    run.out.done(time.perf_counter() - begin)


@contextmanager
def signals_interrupt() -> Iterator[None]:
    """SIGTERM raises like Ctrl-C does, so the rollback runs for both."""

    def interrupt(signum: int, frame: object) -> None:
        raise Interrupted()

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def execute(run: Run, calls: Sequence[StepCall], title: str) -> list[StepResult]:
    # A reset that was cut short comes first: only restore may run on top of it.
    journal = Journal(run.project)
    unfinished = journal.unfinished()
    destructive = _destructive(calls) and not run.dry
    if unfinished:
        if destructive and [call.name for call in calls] != ["restore"]:
            raise Refused(describe_unfinished(unfinished))
        run.out.warn(describe_unfinished(unfinished))
    run.state["unfinished"] = unfinished
    prechecks(run, calls)
    run.out.title(title)
    describe_targets(run)
    confirm(run, calls)
    if not destructive:
        return run_steps(run, calls, None)
    with project_lock(run.project), signals_interrupt():
        try:
            results = run_steps(run, calls, journal)
        except (DjresetError, KeyboardInterrupt, Exception) as failure:
            rollback(run, journal, failure)
            raise
        if journal.data:
            journal.finish("done")
        return results


def run_steps(run: Run, calls: Sequence[StepCall], journal: Journal | None) -> list[StepResult]:
    backup_pending = needs_backup(run, calls)
    results = [StepResult(call, "skipped") for call in calls]
    started = time.perf_counter()
    for index, result in enumerate(results, 1):
        name = result.call.name
        if journal is not None and not journal.data and (registry.get(name).destructive or name == "backup"):
            # The journal starts with the first step that changes or saves something.
            journal.start(run.env.name, [call.name for call in calls])
        if registry.get(name).destructive:
            if backup_pending:
                automatic_backup(run, calls)
                backup_pending = False
                run.state["performed_at_backup"] = run.actions.performed
            if journal is not None:
                journal.update(destructive_started=True, backup=getattr(run.state.get("backup"), "id", None))
        faults.point(f"before:{index}")
        run.out.step(index, len(calls), result.call.describe())
        run.state["steps_ahead"] = [later.call.name for later in results[index:]]
        begin = time.perf_counter()
        try:
            call_step(run, result.call)
        except NothingToDo as done:
            result.status, result.seconds = "ok", time.perf_counter() - begin
            run.out.info(str(done))
            for later in results[index:]:
                later.status = "not needed"
            break
        except BaseException:
            result.status, result.seconds = "failed", time.perf_counter() - begin
            summarize(run, results, time.perf_counter() - started)
            raise
        result.status, result.seconds = "ok", time.perf_counter() - begin
        run.state.setdefault("steps_done", []).append(name)
        if journal is not None and journal.data:
            if name == "backup" and run.state.get("backup"):
                journal.update(backup=run.state["backup"].id)
            journal.step_done(name)
        run.out.done(result.seconds)
        faults.point(f"after:{index}")
    summarize(run, results, time.perf_counter() - started)
    return results


def rollback(run: Run, journal: Journal, failure: BaseException) -> None:
    """Put the backup back after a failed or interrupted run, and say so."""
    from djreset import backup

    made = run.state.get("backup")
    changed = run.actions.performed > run.state.get("performed_at_backup", 0)
    if not journal.data.get("destructive_started") or not changed:
        if journal.data:
            journal.finish("nothing changed")
        return
    if made is None:
        journal.finish("failed without a backup")
        run.out.write("\n==> no backup to roll back to (backups are disabled in reset.yaml)")
        return
    reason = "interrupted" if isinstance(failure, KeyboardInterrupt) else "a step failed"
    run.out.write(f"\n==> rolling back ({reason}): putting back backup {made.id}")
    # Finish the rollback even if asked to stop again.
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN), signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        run.actions.dry = False
        backup.restore(run, made)
    except BaseException as exc:
        journal.finish("rollback failed")
        run.out.write(f"    rollback failed: {exc}; run `djreset restore --env {run.env.name}` to finish it")
        return
    finally:
        signal.signal(signal.SIGINT, previous[0])
        signal.signal(signal.SIGTERM, previous[1])
    journal.finish("rolled back")
    run.out.write(f"    rolled back: files, history{' and database' if made.manifest.get('databases') else ''} are as before the run")


def summarize(run: Run, results: Sequence[StepResult], total: float) -> None:
    run.out.write("\nsummary" + (" (dry run: nothing was changed)" if run.dry else ""))
    rows = [(r.call.describe(), r.status, f"{r.seconds:.2f}s" if r.status in ("ok", "failed") else "-") for r in results]
    rows.append(("total", "", f"{total:.2f}s"))
    run.out.table(rows)
