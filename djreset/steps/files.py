"""clean-files: delete the migration modules of the listed apps, nothing else."""
from __future__ import annotations

import shutil
from pathlib import Path

from djreset import state
from djreset.bridge import data_migrations, graphs, replacing, triage, writer
from djreset.bridge.packages import migration_files, migration_names
from djreset.errors import Refused
from djreset.registry import step
from djreset.run import Run
from djreset.safety import faults


def check_decisions(run: Run, call: object) -> None:
    triage.refuse_unknown_decisions(run.django.loader(), run.apps, run.project.data_migrations, state.reset_apps(run.project))


def check_reset(run: Run) -> graphs.ResetGraph:
    """Refuse, before anything runs, while a data migration has no decision (or
    cannot be carried), or the migrations after the reset would not load."""
    kept = graphs.kept_migrations(run.django, run.apps)
    _, carries = data_migrations.decided(run.django.loader(), run.apps, run.project.data_migrations, run.project.root, kept)
    reset = graphs.predict(run.django, run.apps, carries)
    refusals = reset.refusals()
    if refusals:
        raise Refused("the reset cannot be done as planned, nothing was changed:\n" + "\n".join(f"  {r}" for r in refusals))
    return reset


def _take_inventory(run: Run) -> graphs.ResetGraph:
    """Save the new migrations and the kept data migrations before the old files go (makemigrations writes them)."""
    policy = run.project.data_migrations
    kept = graphs.kept_migrations(run.django, run.apps)
    operations, _ = data_migrations.decided(run.django.loader(), run.apps, policy, run.project.root, kept)
    run.out.found("data_migrations", [op.to_json(run.project.root, data_migrations.decision(op, policy)) for op in operations])
    for op in operations:
        run.out.info(f"{data_migrations.decision(op, policy)}: {op.describe(run.project.root)}")
    # Rendered now, from the graph check and verify proved: the old graph is still whole.
    reset = check_reset(run)
    run.state.carries = list(reset.carries)  # those not moved into a first new migration
    run.state.new_files = writer.render(reset.new)
    run.state.repointed = replacing.repointed_files(reset.kept, reset.repoint)
    run.state.tag = reset.tag
    if not run.dry:
        pending = {
            "tag": reset.tag,
            "new": [file.to_json() for file in run.state.new_files],
            "carries": [carry.to_json() for carry in reset.carries],
            "repointed": [file.to_json() for file in run.state.repointed],
        }
        state.save_pending(run.project, pending)
    return reset


def _replaced_files(package_dir: Path, split: replacing.Split | None) -> list[Path]:
    """The migration files the reset replaces: all of them, or (a partial reset) those up to the cutoff."""
    files = migration_files(package_dir)
    if split is None or not split.kept:
        return files
    return [path for path in files if path.name.split(".")[0] not in split.kept]


@step("clean-files", destructive=True, precheck=check_reset, check_call=check_decisions, changes_schema=False, replaces_files=True)
def clean_files(run: Run) -> None:
    """Delete the listed apps' migration files (keeps __init__.py and sub-packages; a partial reset keeps its recent ones)."""
    packages = {label: run.django.migrations_package(label) for label in run.apps}
    splits = _take_inventory(run).splits
    removed = 0
    for label, package in packages.items():
        if package.directory is None:
            run.actions.note(f"{label}: no migrations package yet")
            continue
        files = _replaced_files(package.directory, splits.get(label))
        run.out.found("files", [run.relative(path) for path in files])
        if files and not run.dry:
            # The split's names, not only the files deleted: a squash's originals, gone from disk earlier, are replaced too.
            replaced = set(migration_names(files)) | set(splits[label].replaced)
            state.record_replaced(run.project, label, sorted(replaced), list(splits[label].kept))
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
