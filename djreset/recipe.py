"""A recipe is an ordered list of steps; this runs one, nox-workflow style.

Each step is looked up in the registry and called with its options.  The
runner prints a header, confirms destructive work, times every step and ends
with a summary.  It knows nothing about what the steps do.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Sequence

from djreset import registry, ui
from djreset.config import StepCall
from djreset.errors import DjresetError, NothingToDo, Refused
from djreset.run import Run


@dataclass
class StepResult:
    call: StepCall
    status: str  # "ok", "failed", "skipped"
    seconds: float = 0.0


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


def confirm(run: Run, calls: Sequence[StepCall]) -> None:
    """Destructive steps need a yes: typed, or --yes (plus DJRESET_CONFIRM when protected)."""
    destructive = [call.name for call in calls if registry.get(call.name).destructive]
    if not destructive or run.dry:
        return
    import os

    what = f"{', '.join(dict.fromkeys(destructive))} on environment {run.env.name!r}"
    if run.env.protected:
        if run.assume_yes:
            if os.environ.get("DJRESET_CONFIRM") == run.env.name:
                return
            raise Refused(
                f"{run.env.name!r} is protected: --yes also needs DJRESET_CONFIRM={run.env.name} in the environment"
            )
        if not ui.is_interactive():
            raise Refused(f"{run.env.name!r} is protected and stdin is not a terminal: nothing was changed")
        expected = _database_names(run)
        answer = ui.ask(f"This will run {what}. Type the database name ({' or '.join(expected)}) to continue: ")
        if answer not in expected:
            raise Refused("the name did not match; nothing was changed")
        return
    if run.assume_yes:
        return
    if not ui.is_interactive():
        raise Refused(f"{what} needs confirmation, and stdin is not a terminal: pass --yes")
    if ui.ask(f"This will run {what}. Continue? [y/N] ").lower() not in ("y", "yes"):
        raise Refused("cancelled; nothing was changed")


def _database_names(run: Run) -> list[str]:
    from pathlib import Path

    names = []
    for alias in run.aliases:
        engine = run.engine(alias)
        names.append(Path(engine.spec.name).name if engine.file_based else engine.spec.name)
    return names


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


def execute(run: Run, calls: Sequence[StepCall], title: str) -> list[StepResult]:
    # Bad app labels, third-party apps and undecided data migrations are
    # refused before anything runs.
    run.django.check_apps(run.apps)
    for name in dict.fromkeys(call.name for call in calls):
        precheck = registry.get(name).precheck
        if precheck:
            precheck(run)
    run.out.title(title)
    describe_targets(run)
    confirm(run, calls)
    backup_pending = needs_backup(run, calls)
    results = [StepResult(call, "skipped") for call in calls]
    started = time.perf_counter()
    for index, result in enumerate(results, 1):
        if backup_pending and registry.get(result.call.name).destructive:
            automatic_backup(run, calls)
            backup_pending = False
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
        except (DjresetError, KeyboardInterrupt):
            result.status, result.seconds = "failed", time.perf_counter() - begin
            summarize(run, results, time.perf_counter() - started)
            raise
        result.status, result.seconds = "ok", time.perf_counter() - begin
        run.out.done(result.seconds)
    summarize(run, results, time.perf_counter() - started)
    return results


def summarize(run: Run, results: Sequence[StepResult], total: float) -> None:
    run.out.write("\nsummary" + (" (dry run: nothing was changed)" if run.dry else ""))
    rows = [(r.call.describe(), r.status, f"{r.seconds:.2f}s" if r.status == "ok" or r.status == "failed" else "-") for r in results]
    rows.append(("total", "", f"{total:.2f}s"))
    run.out.table(rows)
