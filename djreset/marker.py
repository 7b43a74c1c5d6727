"""reset-history.json: which migrations a reset replaced, committed with the new files.

It lives next to reset.yaml.  Deploy-time ``check-applied`` reads it to tell,
from ``django_migrations`` alone, whether an environment still has to be
switched to the new history, is switched already, or was not fully migrated
on the old files (then it refuses).  It is the version marker; no flag in the
database, no manual switch.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from djreset import __version__

if TYPE_CHECKING:
    from djreset.config import Project

NAME = "reset-history.json"


def path(project: "Project") -> Path:
    return project.base_dir / NAME


def load(project: "Project") -> dict[str, Any] | None:
    file = path(project)
    return json.loads(file.read_text()) if file.is_file() else None


def _save(project: "Project", data: dict[str, Any]) -> None:
    data["djreset"] = __version__
    path(project).write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def record_replaced(project: "Project", app: str, names: list[str]) -> None:
    """clean-files: these migrations of ``app`` are being replaced."""
    data = load(project) or {"apps": {}}
    data["reset_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    data["apps"][app] = {"replaced": sorted(names), "new": []}
    _save(project, data)


def record_new(project: "Project", app: str, names: list[str]) -> None:
    """makemigrations: these are the migrations that replace them."""
    data = load(project) or {"apps": {}}
    entry = data["apps"].setdefault(app, {"replaced": [], "new": []})
    entry["new"] = sorted(names)
    _save(project, data)
