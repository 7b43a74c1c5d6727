"""The runner: a recipe is an ordered list of steps, run in a plain loop (nox-style).

``execute`` plans the run (numbering the recipe's steps, and putting an
automatic backup before the first one that changes anything), refuses what
must be refused before anything happens, confirms destructive steps, then
loops over the steps.  Every run that changes files or databases is
journaled and rolled back, destructive or not.  What
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
from djreset.actions import Change
from djreset.config import StepCall
from djreset.engines.clients import sweep_private_files
from djreset.errors import Interrupted, NothingToDo, Refused
from djreset.run import Run
from djreset.safety import backup, faults, lock
from djreset.safety.confirm import confirm
from djreset.safety.journal import Journal, changed_databases, describe_unfinished
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


def execute(run: Run, calls: Sequence[StepCall], title: str) -> list[StepResult]:
    """Run ``calls``: refuse, confirm, back up, loop, summarize; roll back on failure."""
    sweep_private_files()  # a client option file a killed run left behind
    journal = Journal(run.project)
    holder = lock.holder(run.project)
    destructive = _destructive(calls) and not run.dry
    changing = _changing(calls) and not run.dry
    if changing and holder is not None:
        raise Refused(f"another djreset (pid {holder}) is resetting this project right now; wait for it to finish")
    refuse_if_unfinished(run, journal, calls, lock_free=holder is None)
    run.remove_abandoned_scratch()
    prechecks(run, calls)
    results = plan(run, calls)
    announce(run, title)
    if not changing:
        return run_steps(run, results, None)
    if destructive:
        confirm(run, calls)
    with lock.project_lock(run.project):
        # Under the lock, a run the journal calls "running" is dead: ask again.
        refuse_if_unfinished(run, journal, calls, lock_free=True, quiet=True)
        recorder = JournalRecorder(journal, run, calls)
        with signals_interrupt():
            try:
                results = run_steps(run, results, recorder)
            except (Exception, KeyboardInterrupt) as failure:
                rollback(run, journal, failure)
                raise
            finally:
                run.actions.ledger = None
        recorder.finish()
        return results


def _destructive(calls: Sequence[StepCall]) -> bool:
    return any(call.is_destructive for call in calls)


def _changing(calls: Sequence[StepCall]) -> bool:
    return any(call.changes_project for call in calls)


def refuse_if_unfinished(run: Run, journal: Journal, calls: Sequence[StepCall], lock_free: bool, quiet: bool = False) -> None:
    """A reset that was cut short comes first: only restore may run on top of it."""
    if not lock_free:
        run.out.warn(f"another djreset (pid {lock.holder(run.project)}) is changing this project right now; what follows may show its work half done")
    unfinished = journal.unfinished(lock_free)
    if unfinished:
        restoring = all(registry.get(call.name).restores for call in calls)
        if _changing(calls) and not run.dry and not restoring:
            raise Refused(describe_unfinished(unfinished))
        if not quiet:
            run.out.warn(describe_unfinished(unfinished))
    run.state.unfinished = unfinished


def plan(run: Run, calls: Sequence[StepCall]) -> list[StepResult]:
    """The recipe's steps, numbered, with the automatic backup put in where it is needed."""
    results = [StepResult(call, number) for number, call in enumerate(calls, 1)]
    if needs_backup(run, calls):
        first = next(index for index, result in enumerate(results) if result.call.changes_project)
        results.insert(first, StepResult(automatic_backup(run, calls), None))
    return results


def needs_backup(run: Run, calls: Sequence[StepCall]) -> bool:
    """Back up first unless the recipe itself backs up, before its first
    change, everything a rollback would need.

    A backup step without ``database: true`` holds files and history only: it
    does not stand in for the dump a later drop or migrate needs.  A restore
    always backs up what it replaces, whatever reset.yaml says: it is the one
    way back from a restore of the wrong backup."""
    if run.dry or not any(_backed_up(call) for call in calls):
        return False  # only creates what was not there (a lone create-db): the journal undoes it
    wants_dump = bool(automatic_backup(run, calls).options["database"])
    for call in calls:
        spec = registry.get(call.name)
        if spec.saves_backup and (call.options.get("database") or not wants_dump):
            return False
        if call.changes_project:
            return run.project.backups_enabled or spec.restores
    return False


def _backed_up(call: StepCall) -> bool:
    """A step that changes what existed before the run (a recipe with one gets the automatic backup,
    before its first changing step, creates-only ones included: a rollback must undo those too)."""
    return call.changes_project and not registry.get(call.name).creates_only


def automatic_backup(run: Run, calls: Sequence[StepCall]) -> StepCall:
    specs = [registry.get(call.name) for call in calls]
    if any(spec.restores for spec in specs):
        # A restore is itself undoable: the databases it replaces are dumped first.
        return StepCall("backup", {"database": bool(run.state.replaces), "reason": "before restore"}, None, automatic=True)
    reason = "before reset" if len(calls) > 1 else f"before {calls[0].name}"
    # A database the recipe drops, or changes through Django, can only come back from a dump.
    changes = any(spec.drops_database or (spec.changes_data and call.destructive is not False) for spec, call in zip(specs, calls, strict=True))
    options = {"database": changes and run.project.dump_database, "reason": reason}
    return StepCall("backup", options, None, automatic=True)


def prechecks(run: Run, calls: Sequence[StepCall]) -> None:
    """Refusals that must leave nothing behind: before the prompt, the backup, the journal."""
    run.django.check_apps(run.apps)
    run.state.steps_ahead = [registry.get(call.name) for call in calls]  # what a precheck's step will find done before it
    for call in calls:  # bad input first (exit 2), refusals after
        check_call = registry.get(call.name).check_call
        if check_call:
            check_call(run, call)
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
    if recorder is not None:
        recorder.before(run, result.call)
    _fault("before", result)
    if result.number is None:
        result.record = run.out.begin_step(f"{result.call.name} (automatic, before the first change)")
    else:
        result.record = run.out.begin_step(f"[{result.number}/{total}] {result.call.describe()}")
    begin = time.perf_counter()
    try:
        with run.django.database_errors():
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
    step that changes or saves something, and follows every step after it.
    While it runs, database changes are journaled before they are made."""

    def __init__(self, journal: Journal, run: Run, calls: Sequence[StepCall]):
        self.journal = journal
        self.env = run.env.name
        self.steps = [call.name for call in calls]

    def before(self, run: Run, call: StepCall) -> None:
        spec = registry.get(call.name)
        if not self.journal.data and (call.changes_project or spec.saves_backup):
            self.journal.start(self.env, self.steps, backup.migration_folders(run))
            run.actions.ledger = self.journal
        if not self.journal.data:
            return
        # "destructive_started": the journal's name (kept for journals already written) for "changes started".
        if call.changes_project and not self.journal.data.get("destructive_started"):
            run.state.changes_started = True
            self.journal.update(destructive_started=True)
        if spec.restores and run.state.restoring:
            chosen, scope, _ = run.state.restoring
            self.journal.update(restoring=chosen.id, scope={"databases": scope.databases, "folders": scope.folders})
        if spec.changes_data and call.destructive is not False:
            for alias in run.aliases:  # through Django: only a dump can undo it
                self.journal.record(Change(alias, "data"))

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
    """Put back what the failed or interrupted run changed, and only that; say what."""
    made = run.state.backup
    if not journal.data:
        return
    if not journal.data.get("destructive_started"):
        journal.finish("nothing changed")  # it stopped before its first change
        return
    reason = "interrupted" if isinstance(failure, KeyboardInterrupt) else "a step failed"
    if made is None:
        journal.finish("failed without a backup")
        run.out.write(f"\n==> {reason}, and there is no backup to roll back to (backups are disabled in reset.yaml)", "WARNING")
        run.out.write(f"    {describe_unfinished(journal.data)}", "WARNING")
        return
    run.out.write(f"\n==> rolling back ({reason}): putting back what the run changed, from backup {made.id}", "WARNING")
    run.out.report.set("rollback", {"backup": made.id, "reason": reason})
    scope = backup.Scope(changed_databases(journal.data), journal.data.get("folders") or {})
    # Finish the rollback even if asked to stop again.
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN), signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        with run.django.database_errors():
            done = backup.put_back(run, made, scope, backup.check(run, made))
    except BaseException as exc:
        journal.finish("rollback failed")
        run.out.write(f"    rollback failed: {exc}; run `djreset restore --env {run.env.name}` to finish it", "ERROR")
        run.out.report.set("rollback", {"backup": made.id, "reason": reason, "failed": str(exc)})
        return
    finally:
        signal.signal(signal.SIGINT, previous[0])
        signal.signal(signal.SIGTERM, previous[1])
    journal.finish("rolled back")
    if done:
        run.out.write(f"    rolled back: put back {'; '.join(done)}", "SUCCESS")
    else:
        run.out.write("    rolled back: nothing to put back (the migration files and history rows match the backup; no database was changed)", "SUCCESS")


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
