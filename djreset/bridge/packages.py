"""Migration packages on disk: where an app's migrations live, and whose code they are.

The hand recipe's ``find . -path "*/migrations/*.py" -delete`` also deletes
Django's own ``django/db/migrations`` package when a virtualenv lives in the
project.  djreset only ever deletes inside an app's migrations package, and
first proves that package is the project's own code.
"""
from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import os
import pkgutil
import site
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from djreset.errors import ConfigError, Where

if TYPE_CHECKING:
    from django.apps import AppConfig

INSTALLED_DIR_NAMES = {"site-packages", "dist-packages"}


@lru_cache(maxsize=1)
def installed_roots() -> list[Path]:
    """Where installed (third-party) packages live for this interpreter."""
    roots = set()
    for getter in (site.getsitepackages, lambda: [site.getusersitepackages()]):
        try:
            roots.update(Path(p).resolve() for p in getter())
        except (AttributeError, OSError):  # some embedded Pythons lack these
            pass
    if sys.prefix != sys.base_prefix:  # running inside a virtualenv
        roots.add(Path(sys.prefix).resolve())
    return sorted(roots)


def _is_within(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def why_not_owned(path: Path, project_root: Path) -> str | None:
    """Why ``path`` is not the project's own code, or None when it is."""
    path = path.resolve()
    root = project_root.resolve()
    if not _is_within(path, root):
        return f"{path} is outside the project root {root}"
    if INSTALLED_DIR_NAMES & set(path.relative_to(root).parts):
        return f"{path} is inside an installed-packages folder"
    for installed in installed_roots():
        # A project kept inside a virtualenv's folder is still the project.
        if _is_within(path, installed) and not _is_within(root, installed):
            return f"{path} is inside {installed}, where installed packages live"
    # A virtualenv inside the project is marked by pyvenv.cfg at its top.
    for folder in [path, *path.parents]:
        if folder == root:
            break
        if (folder / "pyvenv.cfg").exists():
            return f"{path} is inside the virtualenv {folder}"
    return None


@dataclass(frozen=True)
class MigrationsPackage:
    """Where an app's migrations live."""

    label: str
    directory: Path | None  # None: the package does not exist yet


def find_package(config: "AppConfig", root: Path, where: Where | None) -> MigrationsPackage:
    """The app's migrations package, proven to be the project's own code."""
    from django.db.migrations.loader import MigrationLoader

    label = config.label
    problem = why_not_owned(Path(config.path), root)
    if problem:
        raise ConfigError(f"app {label!r} is not the project's own code: {problem}", where)
    module_name, explicit = MigrationLoader.migrations_module(label)
    if module_name is None:
        raise ConfigError(f"app {label!r} has its migrations disabled (MIGRATION_MODULES[{label!r}] = None)", where)
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError:
        return MigrationsPackage(label, None)
    file = getattr(module, "__file__", None)
    if not file or not hasattr(module, "__path__"):
        raise ConfigError(f"{module_name} is not a package with an __init__.py, so Django treats {label!r} as unmigrated; add the __init__.py first", where)
    directory = Path(file).resolve().parent
    problem = why_not_owned(directory, root)
    if problem:
        moved = " (moved by MIGRATION_MODULES)" if explicit else ""
        raise ConfigError(f"the migrations of {label!r}{moved} are not the project's own: {problem}", where)
    return MigrationsPackage(label, directory)


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


def migration_names(files: Iterable[Path]) -> set[str]:
    """Migration names (modules) of migration files: 0001_initial for 0001_initial.py."""
    return {path.name.split(".")[0] for path in files}


def own_apps(root: Path) -> list[str]:
    """Labels of the project's own installed apps: under its root, with models or migrations."""
    from django.apps import apps

    own = []
    for config in apps.get_app_configs():
        if why_not_owned(Path(config.path), root) is None:
            if any(True for _ in config.get_models()) or has_migrations(config.label):
                own.append(config.label)
    return own


def has_migrations(label: str) -> bool:
    """Does the app have a migrations package, where Django looks (MIGRATION_MODULES too)?"""
    from django.db.migrations.loader import MigrationLoader

    module_name, _ = MigrationLoader.migrations_module(label)
    try:
        return module_name is not None and importlib.util.find_spec(module_name) is not None
    except (ImportError, ValueError):
        return False
