"""clean-files: delete the migration modules of the listed apps, nothing else."""
from __future__ import annotations

import shutil

from djreset import state
from djreset.bridge import data_migrations, graphs, writer
from djreset.bridge.packages import migration_files, migration_names
from djreset.errors import Refused
from djreset.registry import step
from djreset.run import Run
from djreset.safety import faults


def check_reset(run: Run) -> graphs.ResetGraph:
    """Refuse, before anything runs, while a data migration has no decision (or
    cannot be carried), or the migrations after the reset would not load."""
    _, carries = data_migrations.decided(run.django.loader(), run.apps, run.project.data_migrations, run.project.root)
    reset = graphs.predict(run.django, run.apps, carries)
    refusals = reset.refusals()
    if refusals:
        raise Refused("the reset would break the migration graph, nothing was changed:\n" + "\n".join(f"  {r}" for r in refusals))
    return reset


def _take_inventory(run: Run) -> None:
    """Save the new migrations and the kept data migrations before the old files go (makemigrations writes them)."""
    policy = run.project.data_migrations
    operations, carries = data_migrations.decided(run.django.loader(), run.apps, policy, run.project.root)
    run.out.found("data_migrations", [op.to_json(run.project.root, data_migrations.decision(op, policy)) for op in operations])
    for op in operations:
        run.out.info(f"{data_migrations.decision(op, policy)}: {op.describe(run.project.root)}")
    run.state.carries = carries
    # Rendered now, from the graph check and verify proved: the old graph is still whole.
    run.state.new_files = writer.render(check_reset(run).new)
    if not run.dry:
        pending = {"new": [file.to_json() for file in run.state.new_files], "carries": [carry.to_json() for carry in carries]}
        state.save_pending(run.project, pending)


@step("clean-files", destructive=True, precheck=check_reset, changes_schema=False, replaces_files=True)
def clean_files(run: Run) -> None:
    """Delete the listed apps' migration files (keeps __init__.py and sub-packages)."""
    packages = {label: run.django.migrations_package(label) for label in run.apps}
    _take_inventory(run)
    removed = 0
    for label, package in packages.items():
        if package.directory is None:
            run.actions.note(f"{label}: no migrations package yet")
            continue
        files = migration_files(package.directory)
        run.out.found("files", [run.relative(path) for path in files])
        if files and not run.dry:
            state.record_replaced(run.project, label, sorted(migration_names(files)))
        for number, path in enumerate(files, 1):
            run.actions.do(f"delete {run.relative(path)}", path.unlink)
            if number == len(files) // 2 and label == run.apps[len(run.apps) // 2]:
                faults.point("inside:clean-files")
        cache = package.directory / "__pycache__"
        if cache.is_dir():
            run.actions.do(f"delete {run.relative(cache)}/", lambda cache=cache: shutil.rmtree(cache))
        removed += len(files)
        if not files:
            run.actions.note(f"{label}: no migration files")
    run.django.forget_migration_modules(run.apps)
    run.state.files_cleaned = True
    run.out.info(f"{'would remove' if run.dry else 'removed'} {removed} migration files from {len(run.apps)} apps")
