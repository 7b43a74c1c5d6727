"""backup and restore as recipe steps (and tasks)."""
from __future__ import annotations

from typing import Any

from djreset import registry, state
from djreset.config import StepCall
from djreset.errors import ConfigError, Refused
from djreset.registry import Option, step
from djreset.run import Run
from djreset.safety import backup as backups
from djreset.safety.journal import changed_databases, describe_unfinished


@step(
    "backup",
    saves_backup=True,
    changes_schema=False,
    options={
        "database": Option(bool, False, "also dump the whole database"),
        "reason": Option(str, "backup step", "why, as `djreset backups` lists it"),
    },
)
def backup(run: Run, database: bool, reason: str) -> None:
    """Back up the listed apps' migration files, django_migrations and optionally the database."""
    if run.dry:
        what = "files, history" + (" and database dumps (checked against the live databases)" if database else "")
        run.actions.do(f"back up {what} into {run.project.backup_dir}")
        return
    made = backups.create(run, with_database=database, reason=reason)
    if not run.state.changes_started:  # a backup taken after a change is no way back to before the run
        run.state.backup = made


def _scope_of_unfinished(unfinished: dict[str, Any]) -> tuple[str | None, backups.Scope]:
    """What `restore` with no backup named puts back after a run was cut short."""
    if unfinished.get("restoring"):
        # A restore cut short: finish it, as far as it meant to go.
        saved = unfinished.get("scope") or {}
        return unfinished["restoring"], backups.Scope(saved.get("databases"), saved.get("folders") or {})
    if not unfinished.get("destructive_started") or not unfinished.get("backup"):
        return None, backups.Scope()
    if "changes" not in unfinished:  # a journal that does not say what changed: all of it
        return unfinished["backup"], backups.Scope()
    return unfinished["backup"], backups.Scope(changed_databases(unfinished), unfinished.get("folders") or {})


def _forget(run: Run, unfinished: dict[str, Any] | None, requested: str | None) -> None:
    """--forget: the user repaired a run cut short by hand; its journal is cleared, nothing is put back."""
    if requested is not None:
        raise ConfigError("restore: --forget puts nothing back, so it takes no --backup")
    if not unfinished:
        raise Refused("restore --forget: there is no unfinished run to forget")
    run.state.restoring = None
    run.state.forgetting = unfinished


def choose(run: Run, call: StepCall) -> None:
    """Before anything runs: which backup, what of it, and is all of it readable and loadable."""
    requested, force = call.options.get("backup"), bool(call.options.get("force"))
    unfinished = run.state.unfinished
    if call.options.get("forget"):
        _forget(run, unfinished, requested)
        return
    if unfinished and unfinished.get("destructive_started") and not unfinished.get("backup") and not unfinished.get("restoring"):
        raise Refused(describe_unfinished(unfinished))  # nothing djreset could put back: never "nothing to put back"
    was_restore = unfinished and all(registry.get(name).restores for name in unfinished.get("steps", []) if name in registry.STEPS)
    scope = backups.Scope()
    if requested is None and unfinished and not (was_restore and not unfinished.get("restoring")):
        requested, scope = _scope_of_unfinished(unfinished)
        if requested is None:
            run.state.restoring = None
            return
    chosen = state.find_backup(run.project, requested, run.env.name)
    if chosen.manifest.get("env") != run.env.name:
        raise ConfigError(f"backup {chosen.id} is a backup of environment {chosen.manifest.get('env')!r}, not of {run.env.name!r}: "
                          f"restore it with --env {chosen.manifest.get('env')}, or name a backup of {run.env.name!r} (see `djreset backups`)")
    if scope.databases is None:
        scope.databases = {alias: force for alias in chosen.manifest.get("databases", {})}
    elif force:  # --force: the user's say-so, on top of what the run's own drop allowed
        scope.databases = {alias: True for alias in scope.databases}
    run.state.restoring = (chosen, scope, backups.check(run, chosen))
    run.state.replaces = [alias for alias in scope.databases if alias in chosen.manifest.get("databases", {})]


@step(
    "restore",
    destructive=True,
    restores=True,
    check_call=choose,
    options={
        "backup": Option(str, None, "backup id (default: the latest of this environment)"),
        "force": Option(bool, False, "end other sessions on a database it replaces"),
        "forget": Option(bool, False, "clear an unfinished run you repaired by hand; puts nothing back"),
    },
)
def restore(run: Run, backup: str | None, force: bool, forget: bool) -> None:
    """Put files, history and dumped databases back exactly as a backup saved them."""
    if run.state.forgetting:
        done = ", ".join(run.state.forgetting.get("done") or []) or "none"
        run.out.warn(f"forgot the unfinished run started {run.state.forgetting.get('started')} (steps done: {done}) "
                     "on your word that you repaired it: nothing was put back or checked")
        return
    if run.state.restoring is None:
        run.out.info("the interrupted run stopped before it changed anything: nothing to put back")
        return
    chosen, scope, entries = run.state.restoring
    run.out.info(f"restoring {chosen.describe()}")
    done = backups.put_back(run, chosen, scope, entries)
    run.out.info(f"put back: {'; '.join(done)}" if done else "nothing to put back: everything already matches the backup")
