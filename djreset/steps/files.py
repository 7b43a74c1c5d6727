"""clean-files: delete the migration modules of the listed apps, nothing else."""
from __future__ import annotations

import importlib.machinery
import pkgutil
import shutil
from pathlib import Path

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
    found = []
    for name in sorted(names):
        for suffix in importlib.machinery.all_suffixes():
            candidate = directory / f"{name}{suffix}"
            if candidate.is_file():
                found.append(candidate)
    return found


@step("clean-files", destructive=True)
def clean_files(run: Run) -> None:
    """Delete the listed apps' migration files (keeps __init__.py and sub-packages)."""
    removed = 0
    for label in run.apps:
        package = run.django.migrations_package(label)
        if package.directory is None:
            run.actions.note(f"{label}: no migrations package yet")
            continue
        files = migration_files(package.directory)
        for path in files:
            run.actions.do(f"delete {run.relative(path)}", path.unlink)
        cache = package.directory / "__pycache__"
        if cache.is_dir():
            run.actions.do(f"delete {run.relative(cache)}/", lambda cache=cache: shutil.rmtree(cache))
        removed += len(files)
        if not files:
            run.actions.note(f"{label}: no migration files")
    run.django.forget_migration_modules(run.apps)
    run.state["files_cleaned"] = True
    run.out.info(f"{'would remove' if run.dry else 'removed'} {removed} migration files from {len(run.apps)} apps")
