"""Shared fixtures: real copies of the example project and the real CLI."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

import pytest

if TYPE_CHECKING:
    from servers import Server

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "shop"
INTROSPECT = Path(__file__).resolve().parent / "introspect.py"
APPS = ("accounts", "catalog", "orders")
# Pass/fail tallies that suites report at the end of the run.  Tests record
# them with record_property (which also works across pytest-xdist workers).
SUMMARY: dict[str, list[bool]] = {}
TALLIES = ("bad input", "fault point")


# The fast subset (marker `fast`): what CI also runs on the newest and a middle
# Python x Django pair (noxfile.py).  Whole files, or single tests of a file;
# each covers SQLite, PostgreSQL and MariaDB through its fixtures.
FAST = (
    "test_units.py",
    "test_layout.py",
    "test_django_app.py",
    "test_output.py",
    "test_recipes.py::test_case1_dev_recipe_drops_and_rebuilds",
    "test_recipes.py::test_case2_keep_recipe_keeps_schema_and_data",
    "test_keep.py::test_fk_cycle_makes_0001_and_0002_and_records_both",
    "test_keep.py::test_a_column_changed_by_hand_is_refused_before_any_change_with_a_diff",
    "test_keep.py::test_kept_data_migration_is_recorded_not_rerun_and_a_fresh_database_gets_its_data",
    "test_engines.py::test_backup_and_restore_put_the_database_back_without_passwords_in_argv",
    "test_safety.py::test_a_failing_step_rolls_back",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.nodeid.removeprefix("tests/").startswith(FAST):
            item.add_marker(pytest.mark.fast)


def pytest_runtest_logreport(report) -> None:
    if report.when == "call":
        for name, value in report.user_properties:
            if name in TALLIES:
                SUMMARY.setdefault(name, []).append(bool(value) and report.passed)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """In CI (DJRESET_REQUIRE_SERVERS=1) a skipped test is a failed test."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("DJRESET_REQUIRE_SERVERS") == "1" and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"unexpected skip (DJRESET_REQUIRE_SERVERS=1): {report.longrepr}"


def pytest_terminal_summary(terminalreporter) -> None:
    bad = SUMMARY.get("bad input")
    if bad:
        terminalreporter.write_line(f"bad inputs: {len(bad)}, clean errors: {sum(bad)}")
    faults = SUMMARY.get("fault point")
    if faults:
        terminalreporter.write_line(f"fault points: {len(faults)}, recovered: {sum(faults)}, lost: {len(faults) - sum(faults)}")


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
# Written by the tests: the project's settings on a test server database.
import json
import os

from {settings} import *  # noqa: F401,F403

DATABASES = {{"default": json.loads(os.environ["DJT_DATABASE"])}}
if "DJT_SECOND_DATABASE" in os.environ:
    DATABASES["second"] = json.loads(os.environ["DJT_SECOND_DATABASE"])
"""
IGNORE = shutil.ignore_patterns("__pycache__", "*.sqlite3*", ".djreset")
FRESH_SETTINGS = """\
# Written by the tests: the project's settings on a new, empty database.
import json
import os

from {settings} import *  # noqa: F401,F403

DATABASES = {{"default": json.loads(os.environ["DJT_FRESH_DATABASE"])}}
"""


@dataclass
class Target:
    """A copy of a project on one engine, migrated and seeded with its old history."""

    engine: str
    project: Path
    server: "Server | None" = None
    database: str | None = None
    block: str = SQLITE_BLOCK  # the database mapping the project's reset.yaml environments use
    settings: str = "shop.settings"
    second: str | None = None  # a second database alias, "second", when a test adds one
    extra_env: dict[str, str] = field(default_factory=dict)  # what the project needs in every command

    def env(self, **extra: str) -> dict[str, str]:
        values: dict[str, str] = dict(self.extra_env)
        if self.server:
            values.update(self.server.env())
            values["DJT_DATABASE"] = json.dumps(self.server.django_database(self.database))
            if self.second:
                values["DJT_SECOND_DATABASE"] = json.dumps(self.server.django_database(self.second))
        values.update(extra)
        return clean_env(**values)

    def djreset(self, *args: str, env: dict[str, str] | None = None, stdin: str | None = None) -> Result:
        return run_djreset(*args, cwd=self.project, env=env or self.env(), stdin=stdin)

    def manage(self, *args: str) -> subprocess.CompletedProcess:
        settings = ["--settings=test_settings"] if self.server else []
        return manage(self.project, *args, *settings, env=self.env())

    def introspect(self) -> dict:
        database = self.server.django_database(self.database) if self.server else None
        return introspect(self.project, database, self.settings)

    def use_block(self, block: str) -> None:
        """Point the environments of reset.yaml at ``block``."""
        config = self.project / "reset.yaml"
        config.write_text(config.read_text().replace(self.block, block))
        self.block = block

    def fresh(self) -> dict:
        """A new, empty database built with plain ``manage.py migrate`` from the
        migration files on disk, introspected (then dropped)."""
        (self.project / "djt_fresh_settings.py").write_text(FRESH_SETTINGS.format(settings=self.settings))
        if self.server:
            name = self.server.new_name()
            self.server.create(name)
            database = self.server.django_database(name)
        else:
            name, database = None, {"ENGINE": "django.db.backends.sqlite3", "NAME": str(self.project / "djt_fresh.sqlite3")}
        try:
            manage(self.project, "migrate", "-v0", "--settings=djt_fresh_settings", env=self.env(DJT_FRESH_DATABASE=json.dumps(database)))
            return introspect(self.project, database, self.settings)
        finally:
            (self.project / "djt_fresh_settings.py").unlink()
            if name:
                self.server.drop_matching(name)
            else:
                Path(database["NAME"]).unlink(missing_ok=True)

    def sql(self, statement: str) -> None:
        """Run one statement on the live database, as someone editing it by hand would."""
        if self.server:
            self.server.query(statement, database=self.database, role="app")
        else:
            import sqlite3

            with closing(sqlite3.connect(self.project / "db.sqlite3")) as db:
                db.executescript(statement)


def _server_target(project: Path, server: "Server", database: str, settings: str) -> Target:
    (project / "test_settings.py").write_text(TEST_SETTINGS.format(settings=settings))
    target = Target(server.engine, project, server, database, settings=settings)
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
    shutil.copytree(EXAMPLE, project, ignore=IGNORE)
    target = _server_target(project, server, name, "shop.settings")
    target.manage("migrate", "-v0")
    target.manage("seed_demo")
    yield name
    server.drop_matching(name)


@contextmanager
def prepared(
    engine: str, source: Path, settings: str, seed: tuple[str, ...], tmp_path: Path, request: pytest.FixtureRequest | None = None
) -> Iterator[Target]:
    """Copy ``source`` and give it a database on ``engine`` with its old history and data."""
    project = tmp_path / source.name
    if engine == "sqlite":
        if source == EXAMPLE and request is not None:
            shutil.copytree(request.getfixturevalue("migrated_template"), project)
            yield Target("sqlite", project, settings=settings)
            return
        shutil.copytree(source, project, ignore=IGNORE)
        target = Target("sqlite", project, settings=settings)
        target.manage("migrate", "-v0")
        if seed:
            target.manage(*seed)
        yield target
        return
    from servers import Server

    server = Server.find(engine)
    name = server.new_name()
    shutil.copytree(source, project, ignore=IGNORE)
    target = _server_target(project, server, name, settings)
    if engine == "postgresql" and source == EXAMPLE and request is not None:
        server.create(name, template=request.getfixturevalue("pg_template"))
    else:
        server.create(name)
        target.manage("migrate", "-v0")
        if seed:
            target.manage(*seed)
    try:
        yield target
    finally:
        server.drop_matching(name)


@pytest.fixture(params=ENGINES)
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Target]:
    """The migrated, seeded example project on each engine in turn."""
    with prepared(request.param, EXAMPLE, "shop.settings", ("seed_demo",), tmp_path, request) as ready:
        yield ready


@pytest.fixture(params=ENGINES[1:])
def server_target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Target]:
    """The same, on the server engines only."""
    with prepared(request.param, EXAMPLE, "shop.settings", ("seed_demo",), tmp_path, request) as ready:
        yield ready
