"""clean-files: delete the migration modules of the listed apps, nothing else."""
from __future__ import annotations

import importlib.machinery
import json
import os
import pkgutil
import shutil
from pathlib import Path

from djreset import faults, inventory, marker
from djreset.errors import Refused
from djreset.registry import step
from djreset.run import Run


def migration_files(directory: Path) -> list[Path]:
    """The files Django's loader would load as migrations from ``directory``.

    Mirrors ``MigrationLoader.load_disk``: top-level modules (sources and
    sourceless .pyc alike), not packages, not names starting with _ or ~.
    """
    names = {
        name
        for _, name, is_package in pkgutil.iter_modules([str(directory)])
        if not is_package and name[0] not in "_~"
    }
    # One listing, not a stat per name and import suffix: folders of a
    # thousand migrations are what people reset.
    files = {entry.name for entry in os.scandir(directory) if entry.is_file()}
    suffixes = importlib.machinery.all_suffixes()
    return [directory / f"{name}{suffix}" for name in sorted(names) for suffix in suffixes if f"{name}{suffix}" in files]


def carries_file(run: Run) -> Path:
    """Kept data migrations, saved by clean-files for makemigrations."""
    return run.project.state_dir / "carry.json"


def check_decisions(run: Run) -> None:
    """Refuse, before anything runs, while a data migration has no decision."""
    loader = run.django.loader()
    operations = inventory.find(loader, run.apps)
    undecided = [op for op in operations if inventory.decision(op, run.project.data_migrations) is None]
    if undecided:
        raise Refused(inventory.undecided_message(undecided, run.project.root))
    inventory.plan_carries(loader, operations, run.project.data_migrations)  # refuses what cannot be carried


def _take_inventory(run: Run) -> None:
    """Refuse before deleting anything while a data migration has no decision."""
    loader = run.django.loader()
    operations = inventory.find(loader, run.apps)
    policy = run.project.data_migrations
    undecided = [op for op in operations if inventory.decision(op, policy) is None]
    if undecided:
        raise Refused(inventory.undecided_message(undecided, run.project.root))
    for op in operations:
        run.out.info(f"{inventory.decision(op, policy)}: {op.describe(run.project.root)}")
    carries = inventory.plan_carries(loader, operations, policy)
    run.state["carries"] = carries
    if not run.dry:
        path = carries_file(run)
        if carries:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps([carry.to_json() for carry in carries]))
        else:
            path.unlink(missing_ok=True)


@step("clean-files", destructive=True, precheck=check_decisions)
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
        if files and not run.dry:
            marker.record_replaced(run.project, label, sorted({path.name.split(".")[0] for path in files}))
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
    run.state["files_cleaned"] = True
    run.out.info(f"{'would remove' if run.dry else 'removed'} {removed} migration files from {len(run.apps)} apps")
