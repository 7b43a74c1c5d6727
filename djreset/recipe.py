"""The runner: a recipe is an ordered list of steps, run in a plain loop (nox-style).

``execute`` plans the run (numbering the recipe's steps, and putting an
automatic backup before the first destructive one), refuses what must be
refused before anything happens, confirms, then loops over the steps.  What
the runner needs to know about a step (destructive, saves a backup, drops a
database, may change a schema) is declared on its :class:`StepSpec`; the
runner never names a step.  If a step fails or the process is interrupted
(Ctrl-C, SIGTERM), the backup is put back.
"""
from __future__ import annotations

import signal
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Iterator, Sequence

from djreset import registry
from djreset.config import StepCall
from djreset.errors import NothingToDo, Refused
from djreset.run import Run
from djreset.safety import backup, faults
from djreset.safety.confirm import confirm
from djreset.safety.journal import Journal, describe_unfinished
from djreset.safety.lock import project_lock
from djreset.ui import Styled


class Status(Enum):
    OK = "ok"
    FAILED = "failed"
    SKIPPED = "skipped"
    NOT_NEEDED = "not needed"


@dataclass
class StepResult:
    call: StepCall
    number: int | None  # its place in the recipe; None for a step the runner put in
    status: Status = Status.SKIPPED
    seconds: float = 0.0
    # What the step said and did, for --json (ui.Report).
    record: dict[str, Any] = field(default_factory=dict)

    @property
    def spec(self) -> registry.StepSpec:
        return registry.get(self.call.name)


class Interrupted(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C: stop, roll back, exit."""


def execute(run: Run, calls: Sequence[StepCall], title: str) -> list[StepResult]:
    """Run ``calls``: refuse, confirm, back up, loop, summarize; roll back on failure."""
    journal = Journal(run.project)
    refuse_if_unfinished(run, journal, calls)
    run.remove_abandoned_scratch()
    results = plan(run, calls)
    prechecks(run, calls)
    announce(run, title)
    confirm(run, calls)
    if run.dry or not _destructive(calls):
        return run_steps(run, results, None)
    recorder = JournalRecorder(journal, run, calls)
    with project_lock(run.project), signals_interrupt():
        try:
            results = run_steps(run, results, recorder)
        except (Exception, KeyboardInterrupt) as failure:
            rollback(run, journal, failure)
            raise
        recorder.finish()
        return results


def _destructive(calls: Sequence[StepCall]) -> bool:
    return any(registry.get(call.name).destructive for call in calls)


def refuse_if_unfinished(run: Run, journal: Journal, calls: Sequence[StepCall]) -> None:
    """A reset that was cut short comes first: only restore may run on top of it."""
    unfinished = journal.unfinished()
    if unfinished:
        restoring = all(registry.get(call.name).restores for call in calls)
        if _destructive(calls) and not run.dry and not restoring:
            raise Refused(describe_unfinished(unfinished))
        run.out.warn(describe_unfinished(unfinished))
    run.state.unfinished = unfinished


def plan(run: Run, calls: Sequence[StepCall]) -> list[StepResult]:
    """The recipe's steps, numbered, with the automatic backup put in where it is needed."""
    results = [StepResult(call, number) for number, call in enumerate(calls, 1)]
    if needs_backup(run, calls):
        first = next(index for index, result in enumerate(results) if result.spec.destructive)
        results.insert(first, StepResult(automatic_backup(run, calls), None))
    return results


def needs_backup(run: Run, calls: Sequence[StepCall]) -> bool:
    """Back up first unless the recipe itself backs up before its first destructive step."""
    if run.dry or not run.project.backups_enabled:
        return False
    for call in calls:
        spec = registry.get(call.name)
        if spec.saves_backup:
            return False
        if spec.destructive:
            return True
    return False


def automatic_backup(run: Run, calls: Sequence[StepCall]) -> StepCall:
    specs = [registry.get(call.name) for call in calls]
    drops = any(spec.drops_database for spec in specs)
    if any(spec.restores for spec in specs):
        reason = "before restore"  # a restore is itself undoable
    else:
        reason = "before reset" if len(calls) > 1 else f"before {calls[0].name}"
    options = {"database": drops and run.project.dump_database, "reason": reason}
    return StepCall("backup", options, None, automatic=True)


def prechecks(run: Run, calls: Sequence[StepCall]) -> None:
    """Refusals that must leave nothing behind: before the prompt, the backup, the journal."""
    run.django.check_apps(run.apps)
    for name in dict.fromkeys(call.name for call in calls):
        precheck = registry.get(name).precheck
        if precheck:
            precheck(run)


def announce(run: Run, title: str) -> None:
    report = run.out.report
    report.set("environment", run.env.name)
    report.set("dry_run", run.dry)
    report.set("project", {"root": str(run.project.root), "settings": run.project.settings, "apps": list(run.apps)})
    report.set("databases", {alias: run.engine(alias).describe() for alias in run.aliases})
    run.out.title(title)
    run.out.write(f"project  {run.project.root} ({run.project.settings})")
    run.out.write(f"apps     {', '.join(run.apps)}")
    for alias in run.aliases:
        run.out.write(f"database {alias}: {run.engine(alias).describe()}")


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


# -- the loop ------------------------------------------------------------------------


def run_steps(run: Run, results: list[StepResult], recorder: "JournalRecorder | None") -> list[StepResult]:
    total = sum(1 for result in results if result.number is not None)
    started = time.perf_counter()
    for position, result in enumerate(results):
        run.state.steps_ahead = [later.spec for later in results[position + 1:]]
        try:
            finished = run_one(run, result, total, recorder)
        except BaseException:
            summarize(run, results, time.perf_counter() - started)
            raise
        finally:
            run.out.report.end_step()
        if not finished:
            for later in results[position + 1:]:
                later.status = Status.NOT_NEEDED
            break
    summarize(run, results, time.perf_counter() - started)
    return results


def run_one(run: Run, result: StepResult, total: int, recorder: "JournalRecorder | None") -> bool:
    """One step, framed: journal, fault points, output, timing.  False: the recipe ends here."""
    spec = result.spec
    if recorder is not None:
        recorder.before(spec)
    _fault("before", result)
    if result.number is None:
        result.record = run.out.begin_step(f"{result.call.name} (automatic, before the first destructive step)")
    else:
        result.record = run.out.begin_step(f"[{result.number}/{total}] {result.call.describe()}")
    begin = time.perf_counter()
    try:
        call_step(run, result.call)
    except NothingToDo as done:
        result.status, result.seconds = Status.OK, time.perf_counter() - begin
        run.out.info(str(done))
        return False
    except BaseException:
        result.status, result.seconds = Status.FAILED, time.perf_counter() - begin
        raise
    result.status, result.seconds = Status.OK, time.perf_counter() - begin
    _after(run, result, recorder)
    run.out.done(result.seconds)
    _fault("after", result)
    return True


def call_step(run: Run, call: StepCall) -> None:
    spec = registry.get(call.name)
    if spec.argument:
        spec.func(run, call.argument)
    else:
        spec.func(run, **call.options)


def _after(run: Run, result: StepResult, recorder: "JournalRecorder | None") -> None:
    spec = result.spec
    if spec.saves_backup:
        run.state.changes_before_backup = run.actions.performed
    if spec.changes_schema:
        run.django.schema_may_have_changed()
    if result.number is not None:
        run.state.steps_done.append(spec.name)
    if recorder is not None:
        recorder.after(run, result)


def _fault(when: str, result: StepResult) -> None:
    # Fault points are numbered by the recipe (tests kill at "after:3").
    if result.number is not None:
        faults.point(f"{when}:{result.number}")


class JournalRecorder:
    """The one place the runner writes the journal: it starts with the first
    step that changes or saves something, and follows every step after it."""

    def __init__(self, journal: Journal, run: Run, calls: Sequence[StepCall]):
        self.journal = journal
        self.env = run.env.name
        self.steps = [call.name for call in calls]

    def before(self, spec: registry.StepSpec) -> None:
        if not self.journal.data and (spec.destructive or spec.saves_backup):
            self.journal.start(self.env, self.steps)
        if spec.destructive and not self.journal.data.get("destructive_started"):
            self.journal.update(destructive_started=True)

    def after(self, run: Run, result: StepResult) -> None:
        if not self.journal.data:
            return
        if result.spec.saves_backup and run.state.backup:
            self.journal.update(backup=run.state.backup.id)
        if result.number is not None:
            self.journal.step_done(result.spec.name)

    def finish(self) -> None:
        if self.journal.data:
            self.journal.finish("done")


# -- after a failure -------------------------------------------------------------------


def rollback(run: Run, journal: Journal, failure: BaseException) -> None:
    """Put the backup back after a failed or interrupted run, and say so."""
    made = run.state.backup
    changed = run.actions.performed > run.state.changes_before_backup
    if not journal.data.get("destructive_started") or not changed:
        if journal.data:
            journal.finish("nothing changed")
        return
    if made is None:
        journal.finish("failed without a backup")
        run.out.write("\n==> no backup to roll back to (backups are disabled in reset.yaml)")
        return
    reason = "interrupted" if isinstance(failure, KeyboardInterrupt) else "a step failed"
    run.out.write(f"\n==> rolling back ({reason}): putting back backup {made.id}", "WARNING")
    run.out.report.set("rollback", {"backup": made.id, "reason": reason})
    # Finish the rollback even if asked to stop again.
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN), signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        backup.restore(run, made)
    except BaseException as exc:
        journal.finish("rollback failed")
        run.out.write(f"    rollback failed: {exc}; run `djreset restore --env {run.env.name}` to finish it", "ERROR")
        run.out.report.set("rollback", {"backup": made.id, "reason": reason, "failed": str(exc)})
        return
    finally:
        signal.signal(signal.SIGINT, previous[0])
        signal.signal(signal.SIGTERM, previous[1])
    journal.finish("rolled back")
    run.out.write(f"    rolled back: files, history{' and database' if made.manifest.get('databases') else ''} are as before the run", "SUCCESS")


STATUS_ROLES = {Status.OK: "SUCCESS", Status.FAILED: "ERROR", Status.SKIPPED: "NOTICE", Status.NOT_NEEDED: "NOTICE"}


def summarize(run: Run, results: Sequence[StepResult], total: float) -> None:
    run.out.write("\nsummary" + (" (dry run: nothing was changed)" if run.dry else ""))
    timed = (Status.OK, Status.FAILED)
    rows = [(r.call.describe(), Styled(r.status.value, STATUS_ROLES[r.status]), f"{r.seconds:.2f}s" if r.status in timed else "-") for r in results]
    rows.append(("total", "", f"{total:.2f}s"))
    run.out.table(rows)
    run.out.report.set("steps", [step_json(r) for r in results])
    run.out.report.set("seconds", round(total, 3))


def step_json(result: StepResult) -> dict[str, Any]:
    """One step in --json: name, status, seconds, then what it said, did and found."""
    timed = result.status in (Status.OK, Status.FAILED)
    head = {
        "name": result.call.name,
        "options": dict(result.call.options),
        "argument": result.call.argument,
        "number": result.number,
        "automatic": result.number is None,
        "status": result.status.value,
        "seconds": round(result.seconds, 3) if timed else None,
    }
    return {**head, **(result.record or {"actions": [], "messages": [], "warnings": [], "found": {}})}
