"""Shared fixtures: real copies of the example project and the real CLI."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "shop"
INTROSPECT = Path(__file__).resolve().parent / "introspect.py"
APPS = ("accounts", "catalog", "orders")


def clean_env(**extra: str) -> dict[str, str]:
    """The test process's environment without djreset's own variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJRESET_")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(extra)
    return env


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


def run_djreset(*args: str, cwd: Path, env: dict[str, str] | None = None, stdin: str | None = None) -> Result:
    """The real CLI in a subprocess, as a user would run it."""
    proc = subprocess.run(
        [sys.executable, "-m", "djreset", *args],
        cwd=cwd,
        env=env or clean_env(),
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        timeout=300,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


def manage(project: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=project,
        env=env or clean_env(),
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )


def introspect(project: Path, database: dict | None = None, settings: str = "shop.settings") -> dict:
    """Schema, rows and history of the project's database (Django introspection)."""
    args = [sys.executable, str(INTROSPECT), settings]
    if database is not None:
        args.append(json.dumps(database))
    proc = subprocess.run(args, cwd=project, env=clean_env(), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def migration_files(project: Path, app: str) -> list[str]:
    return sorted(p.name for p in (project / app / "migrations").iterdir() if p.is_file())


def tree_snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` with its bytes (to prove nothing changed)."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example project, migrated with its old history and seeded, once."""
    template = tmp_path_factory.mktemp("template") / "shop"
    shutil.copytree(EXAMPLE, template, ignore=shutil.ignore_patterns("__pycache__", "*.sqlite3*", ".djreset"))
    manage(template, "migrate", "-v0")
    manage(template, "seed_demo")
    return template


@pytest.fixture
def shop(migrated_template: Path, tmp_path: Path) -> Path:
    """A fresh copy of the migrated example project for one test."""
    target = tmp_path / "shop"
    shutil.copytree(migrated_template, target)
    return target


@pytest.fixture
def bare_shop(tmp_path: Path) -> Path:
    """A copy of the example without any database."""
    target = tmp_path / "shop"
    shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns("__pycache__", "*.sqlite3*", ".djreset"))
    return target
