"""Shared fixtures: real copies of the example project and the real CLI."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

import pytest

if TYPE_CHECKING:
    from servers import Server

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "shop"
INTROSPECT = Path(__file__).resolve().parent / "introspect.py"
APPS = ("accounts", "catalog", "orders")
# Pass/fail tallies that suites report at the end of the run (e.g. "bad inputs").
SUMMARY: dict[str, list[bool]] = {}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):  # noqa: ANN001, ANN201 - pytest hook
    """In CI (DJRESET_REQUIRE_SERVERS=1) a skipped test is a failed test."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("DJRESET_REQUIRE_SERVERS") == "1" and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"unexpected skip (DJRESET_REQUIRE_SERVERS=1): {report.longrepr}"


def pytest_terminal_summary(terminalreporter) -> None:  # noqa: ANN001 - pytest hook
    bad = SUMMARY.get("bad inputs")
    if bad:
        terminalreporter.write_line(f"bad inputs: {len(bad)}, clean errors: {sum(bad)}")


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


# -- the same project on every engine ------------------------------------------

ENGINES = ("sqlite", "postgresql", "mysql")
SQLITE_BLOCK = "{engine: sqlite, name: db.sqlite3}"
TEST_SETTINGS = """\
# Written by the tests: the example's settings on a test server database.
import json
import os

from shop.settings import *  # noqa: F401,F403

DATABASES = {"default": json.loads(os.environ["DJT_DATABASE"])}
"""


@dataclass
class Target:
    """A copy of the example project on one engine, migrated and seeded with its old history."""

    engine: str
    project: Path
    server: "Server | None" = None
    database: str | None = None
    block: str = SQLITE_BLOCK  # the database mapping the dev and keep environments use

    def env(self, **extra: str) -> dict[str, str]:
        values: dict[str, str] = {}
        if self.server:
            values.update(self.server.env())
            values["DJT_DATABASE"] = json.dumps(self.server.django_database(self.database))
        values.update(extra)
        return clean_env(**values)

    def djreset(self, *args: str, env: dict[str, str] | None = None, stdin: str | None = None) -> Result:
        return run_djreset(*args, cwd=self.project, env=env or self.env(), stdin=stdin)

    def manage(self, *args: str) -> subprocess.CompletedProcess:
        settings = ["--settings=test_settings"] if self.server else []
        return manage(self.project, *args, *settings, env=self.env())

    def introspect(self) -> dict:
        database = self.server.django_database(self.database) if self.server else None
        return introspect(self.project, database)

    def use_block(self, block: str) -> None:
        """Point the dev and keep environments at ``block``."""
        config = self.project / "reset.yaml"
        config.write_text(config.read_text().replace(self.block, block))
        self.block = block


def _prepare_server_project(project: Path, server: "Server", database: str) -> Target:
    (project / "test_settings.py").write_text(TEST_SETTINGS)
    target = Target(server.engine, project, server, database)
    target.use_block(server.yaml_block(database))
    return target


@pytest.fixture(scope="session")
def pg_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A PostgreSQL database with the example's old history and data, to copy from."""
    from servers import Server

    server = Server.find("postgresql")
    name = server.new_name() + "_tpl"
    server.create(name)
    project = tmp_path_factory.mktemp("pg-template") / "shop"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("__pycache__", "*.sqlite3*", ".djreset"))
    target = _prepare_server_project(project, server, name)
    target.manage("migrate", "-v0")
    target.manage("seed_demo")
    yield name
    server.drop_matching(name)


@contextmanager
def prepared_target(engine: str, request: pytest.FixtureRequest, migrated_template: Path, tmp_path: Path) -> Iterator[Target]:
    project = tmp_path / "shop"
    if engine == "sqlite":
        shutil.copytree(migrated_template, project)
        yield Target("sqlite", project)
        return
    from servers import Server

    server = Server.find(engine)
    name = server.new_name()
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("__pycache__", "*.sqlite3*", ".djreset"))
    target = _prepare_server_project(project, server, name)
    if engine == "postgresql":
        server.create(name, template=request.getfixturevalue("pg_template"))
    else:
        server.create(name)
        target.manage("migrate", "-v0")
        target.manage("seed_demo")
    try:
        yield target
    finally:
        server.drop_matching(name)


@pytest.fixture(params=ENGINES)
def target(request: pytest.FixtureRequest, migrated_template: Path, tmp_path: Path) -> Iterator[Target]:
    """The migrated, seeded example project on each engine in turn."""
    with prepared_target(request.param, request, migrated_template, tmp_path) as prepared:
        yield prepared


@pytest.fixture(params=ENGINES[1:])
def server_target(request: pytest.FixtureRequest, migrated_template: Path, tmp_path: Path) -> Iterator[Target]:
    """The same, on the server engines only."""
    with prepared_target(request.param, request, migrated_template, tmp_path) as prepared:
        yield prepared
