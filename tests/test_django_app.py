"""djreset as a Django app: `manage.py djreset <task>` is the djreset program, inside the project's Django."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from conftest import clean_env, run_djreset, tree_snapshot


def manage_py(project: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """manage.py as a user runs it (exit code and output as they are)."""
    return subprocess.run([sys.executable, str(project / "manage.py"), *args], cwd=cwd or project, env=clean_env(),
                          capture_output=True, text=True, timeout=300)


def without_timings(text: str) -> str:
    return re.sub(r"\d+\.\d\ds", "#s", text)


def test_manage_py_djreset_plan_is_the_djreset_program(shop: Path, tmp_path: Path) -> None:
    before = tree_snapshot(shop)
    managed = manage_py(shop, "djreset", "plan", "--env", "keep")
    assert managed.returncode == 0, managed.stdout + managed.stderr
    program = run_djreset("plan", "--env", "keep", cwd=shop)
    assert program.code == 0, program.text
    # Same tasks, same output: only the timings differ.
    assert without_timings(managed.stdout) == without_timings(program.out)
    assert "==> [3/6] clean-files" in managed.stdout and "summary (dry run: nothing was changed)" in managed.stdout
    # From another folder, reset.yaml is the one next to manage.py.
    elsewhere = manage_py(shop, "djreset", "plan", "--env", "keep", cwd=tmp_path)
    assert elsewhere.returncode == 0, elsewhere.stderr
    assert without_timings(elsewhere.stdout) == without_timings(program.out)
    assert tree_snapshot(shop) == before


def test_manage_py_check_stays_clean_with_the_app_installed(shop: Path) -> None:
    assert '"djreset"' in (shop / "shop" / "settings.py").read_text()
    for args in (("check",), ("check", "--database", "default"), ("check", "--deploy", "--fail-level", "ERROR")):
        result = manage_py(shop, *args)
        assert result.returncode == 0, result.stderr
        assert "ERRORS" not in result.stderr
    assert manage_py(shop, "check").stdout.strip() == "System check identified no issues (0 silenced)."


def test_version_help_and_exit_codes_are_the_programs(shop: Path) -> None:
    from djreset import __version__

    assert manage_py(shop, "djreset", "--version").stdout.strip() == f"djreset {__version__}"
    assert run_djreset("--version", cwd=shop).out.strip() == f"djreset {__version__}"
    help_text = manage_py(shop, "help", "djreset").stdout
    assert "Usage: manage.py djreset" in help_text and "plan" in help_text
    bad = manage_py(shop, "djreset", "plan", "--env", "nope")
    assert bad.returncode == 2
    assert len(bad.stderr.strip().splitlines()) == 1 and bad.stderr.startswith("djreset: ") and "'nope'" in bad.stderr
    # A refusal is 1, as with the program.
    (shop / "catalog" / "models.py").write_text((shop / "catalog" / "models.py").read_text() + "\n\nclass Extra(models.Model):\n    pass\n")
    assert manage_py(shop, "djreset", "check", "--env", "keep").returncode == 1


TOUCHES_DB_APP = '''\
from django.apps import AppConfig
from django.db import connections


class TouchConfig(AppConfig):
    name = "touchdb"

    def ready(self):
        # Some apps read the database settings when Django starts.
        connections["default"].settings_dict
'''


def test_reset_yaml_database_wins_inside_manage_py(shop: Path) -> None:
    """The settings name db.sqlite3; reset.yaml names another file: djreset works on reset.yaml's."""
    (shop / "db.sqlite3").rename(shop / "elsewhere.sqlite3")
    config = shop / "reset.yaml"
    config.write_text(config.read_text().replace("{engine: sqlite, name: db.sqlite3}", "{engine: sqlite, name: elsewhere.sqlite3}"))
    (shop / "touchdb").mkdir()
    (shop / "touchdb" / "__init__.py").write_text("")
    (shop / "touchdb" / "apps.py").write_text(TOUCHES_DB_APP)
    settings = shop / "shop" / "settings.py"
    settings.write_text(settings.read_text() + '\nINSTALLED_APPS = [*INSTALLED_APPS, "touchdb"]\n')

    result = manage_py(shop, "djreset", "verify", "--env", "keep", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["databases"]["default"].endswith("elsewhere.sqlite3")
    assert report["steps"][0]["status"] == "ok"
    assert not (shop / "db.sqlite3").exists()  # Django's own database was never opened


def test_manage_py_with_other_settings_than_reset_yaml_is_refused(shop: Path) -> None:
    (shop / "shop" / "other_settings.py").write_text("from shop.settings import *  # noqa: F403\n")
    before = tree_snapshot(shop)
    result = manage_py(shop, "djreset", "check", "--env", "keep", "--settings=shop.other_settings")
    assert result.returncode == 2, result.stderr
    line = result.stderr.strip()
    assert "\n" not in line
    assert re.search(r"reset\.yaml:\d+: project\.settings: Django runs with the settings 'shop\.other_settings'", line), line
    assert tree_snapshot(shop) == before


def test_manage_py_djreset_runs_a_destructive_step_like_the_program(shop: Path) -> None:
    result = manage_py(shop, "djreset", "reset", "--env", "keep", "--yes")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "verify: ok" in result.stdout
    # The result is what Django itself accepts.
    for args in (("migrate", "--check"), ("makemigrations", "--check", "--dry-run")):
        assert manage_py(shop, *args).returncode == 0
