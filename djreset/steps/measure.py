"""measure: migration counts, graph load and fresh-migrate times, beside those from before the last reset."""
from __future__ import annotations

from datetime import datetime, timezone

from djreset import measure as numbers
from djreset import state
from djreset.registry import step
from djreset.run import Run


@step("measure", changes_schema=False, read_only=True)
def measure(run: Run) -> None:
    """Count migrations and time graph loading and a fresh migrate; compare with before the last reset."""
    now = {"at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "apps": numbers.counts(run)}
    now["graph_load_seconds"] = numbers.graph_load_seconds(run)
    now["migrate_seconds"] = numbers.migrate_seconds(run, "default" if "default" in run.aliases else run.aliases[0])
    before = numbers.before_last_reset(run)
    old = before or {}
    rows = [("", f"before (backup {before['backup']})" if before else "before", "now")]
    rows.append(("migration files", numbers.total(old, "files") if before else "-", numbers.total(now, "files")))
    rows.append(("operations", numbers.total(old, "operations") if before else "-", numbers.total(now, "operations")))
    rows.append(("load the migration graph", numbers.seconds(old.get("graph_load_seconds")), numbers.seconds(now["graph_load_seconds"])))
    rows.append(("migrate an empty database", numbers.seconds(old.get("migrate_seconds")), numbers.seconds(now["migrate_seconds"])))
    for label, counted in now["apps"].items():
        rows.append((f"  {label}", numbers.app_counts(old.get("apps", {}).get(label)), numbers.app_counts(counted)))
    run.out.table(rows)
    run.out.found("measurements", {"now": now, "before": before})
    if not run.dry:
        state.save_measurement(run.project, run.env.name, now)
