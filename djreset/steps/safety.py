"""backup and restore as recipe steps (and tasks)."""
from __future__ import annotations

from djreset import backup as backups
from djreset.registry import Option, step
from djreset.run import Run


@step("backup", options={"database": Option(bool, False, "also dump the whole database")})
def backup(run: Run, database: bool) -> None:
    """Back up the listed apps' migration files, django_migrations and optionally the database."""
    if run.dry:
        what = "files, history" + (" and database dumps" if database else "")
        run.actions.do(f"back up {what} into {run.project.backup_dir}")
        return
    run.state["backup"] = backups.create(run, with_database=database, reason="backup step")


@step("restore", destructive=True, options={"backup": Option(str, None, "backup id (default: the latest of this environment)")})
def restore(run: Run, backup: str | None) -> None:
    """Put files, history and dumped databases back exactly as a backup saved them."""
    unfinished = run.state.get("unfinished")
    if backup is None and unfinished and unfinished.get("steps") != ["restore"]:
        # Undo the run that was cut short: its own backup, or nothing at all.
        if not unfinished.get("destructive_started") or not unfinished.get("backup"):
            run.out.info("the interrupted run stopped before it changed anything: nothing to put back")
            return
        backup = unfinished["backup"]
    # Not the safety backup this very run made of the state being replaced.
    chosen = backups.find(run.project, backup, run.env.name, exclude=run.state.get("backup"))
    run.out.info(f"restoring {chosen.describe()}")
    backups.restore(run, chosen)
