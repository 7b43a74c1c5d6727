"""backup and restore as recipe steps (and tasks)."""
from __future__ import annotations

from djreset import registry, state
from djreset.registry import Option, step
from djreset.run import Run
from djreset.safety import backup as backups


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
        what = "files, history" + (" and database dumps" if database else "")
        run.actions.do(f"back up {what} into {run.project.backup_dir}")
        return
    run.state.backup = backups.create(run, with_database=database, reason=reason)


@step("restore", destructive=True, restores=True, options={"backup": Option(str, None, "backup id (default: the latest of this environment)")})
def restore(run: Run, backup: str | None) -> None:
    """Put files, history and dumped databases back exactly as a backup saved them."""
    unfinished = run.state.unfinished
    was_restore = unfinished and all(registry.get(name).restores for name in unfinished.get("steps", []) if name in registry.STEPS)
    if backup is None and unfinished and not was_restore:
        # Undo the run that was cut short: its own backup, or nothing at all.
        if not unfinished.get("destructive_started") or not unfinished.get("backup"):
            run.out.info("the interrupted run stopped before it changed anything: nothing to put back")
            return
        backup = unfinished["backup"]
    # Not the safety backup this very run made of the state being replaced.
    chosen = state.find_backup(run.project, backup, run.env.name, exclude=run.state.backup)
    run.out.info(f"restoring {chosen.describe()}")
    backups.restore(run, chosen)
