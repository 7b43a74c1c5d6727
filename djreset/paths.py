"""Which directories belong to the project, and which must never be touched.

The hand recipe's ``find . -path "*/migrations/*.py" -delete`` also deletes
Django's own ``django/db/migrations`` package when a virtualenv lives in the
project.  djreset only ever deletes inside an app's migrations package, and
first proves that package is the project's own code.
"""
from __future__ import annotations

import site
import sys
from functools import lru_cache
from pathlib import Path

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
