"""Every step run on its own, and what each one must never touch."""
from __future__ import annotations

import py_compile
import sqlite3
from contextlib import closing
from pathlib import Path

from conftest import APPS, Target, introspect, manage, migration_files, run_djreset, tree_snapshot
from test_keep import SEEDED, assert_fresh_database_matches, new_rows, old_names


def history(project: Path) -> list[tuple[str, str]]:
    with closing(sqlite3.connect(project / "db.sqlite3")) as db:
        return db.execute("SELECT app, name FROM django_migrations ORDER BY id").fetchall()


def step(project: Path, *args: str) -> str:
    result = run_djreset(*args, "--yes", cwd=project)
    assert result.code == 0, result.text
    return result.out


def test_clean_files_deletes_only_what_the_loader_loads(shop: Path) -> None:
    migrations = shop / "catalog" / "migrations"
    helpers = migrations / "helpers"
    helpers.mkdir()
    (helpers / "__init__.py").write_text("")
    (helpers / "sql.py").write_text("STATEMENT = 'select 1'\n")
    # A sourceless leftover (its .py deleted, its .pyc not): Django still loads it.
    stray = migrations / "0099_stray.py"
    stray.write_text("from django.db import migrations\n\n\nclass Migration(migrations.Migration):\n    dependencies = [('catalog', '0005_rename_price')]\n")
    py_compile.compile(str(stray), cfile=str(migrations / "0099_stray.pyc"))
    stray.unlink()
    (migrations / "__pycache__").mkdir()
    (migrations / "__pycache__" / "0001_initial.cpython-311.pyc").write_bytes(b"cache")
    (migrations / "README.txt").write_text("notes kept with the migrations\n")
    contrib_before = tree_snapshot(Path(__import__("django").__file__).parent / "contrib" / "auth" / "migrations")

    out = step(shop, "clean-files", "--env", "dev")

    for app in APPS:
        assert migration_files(shop, app) == sorted(["__init__.py"] + (["README.txt"] if app == "catalog" else []))
    assert (helpers / "sql.py").exists(), "a sub-package is not a migration"
    assert not (migrations / "0099_stray.pyc").exists()
    assert not (migrations / "__pycache__").exists()
    assert "delete catalog/migrations/0003_seed_categories.py" in out
    assert "delete catalog/migrations/0099_stray.pyc" in out
    assert "removed 15 migration files from 3 apps" in out
    assert tree_snapshot(Path(__import__("django").__file__).parent / "contrib" / "auth" / "migrations") == contrib_before


def test_fake_zero_forgets_only_the_listed_apps(shop: Path) -> None:
    before = history(shop)
    out = step(shop, "fake-zero", "--env", "keep")
    after = history(shop)
    assert after == [row for row in before if row[0] not in APPS]
    assert len(before) - len(after) == 14
    assert "delete 14 rows on default" in out


def test_the_keep_recipes_as_single_steps(shop: Path, tmp_path: Path) -> None:
    """Each step in its own process: what one leaves for the next is on disk, not in memory."""
    import shutil

    classic = tmp_path / "classic"
    shutil.copytree(shop, classic)
    for project, env, steps in (
        (shop, "keep", ("check", "verify", "clean-files", "makemigrations", "record-new", "verify")),
        (classic, "keep-classic", ("fake-zero", "clean-files", "makemigrations", "migrate-fake-initial")),
    ):
        before = introspect(project)
        for name in steps:
            step(project, name, "--env", env)
        after = introspect(project)
        assert after["schema"] == before["schema"] and after["rows"] == before["rows"]
        # The new migrations recorded; the old rows too (kept, or recorded again as the ones they replace).
        assert [row for row in after["history"] if row[0] in APPS] == sorted(old_names() + new_rows(project)), env
        manage(project, "migrate", "--check")
        manage(project, "makemigrations", "--check", "--dry-run")
        assert_fresh_database_matches(Target("sqlite", project), after, APPS, SEEDED["shop"])


def test_the_dev_recipe_as_single_steps(shop: Path) -> None:
    out = step(shop, "drop-db", "--env", "dev")
    assert not (shop / "db.sqlite3").exists()
    assert "remembered" not in out  # SQLite has nothing to remember
    step(shop, "create-db", "--env", "dev")
    assert (shop / "db.sqlite3").stat().st_size > 0
    step(shop, "clean-files", "--env", "dev")
    out = step(shop, "makemigrations", "--env", "dev")
    assert "wrote 3 migration files and carried 1 data migrations" in out
    out = step(shop, "migrate", "--env", "dev")
    assert "applied 22 migrations" in out
    manage(shop, "migrate", "--check")
    manage(shop, "makemigrations", "--check", "--dry-run")


def test_drop_db_removes_the_sqlite_side_files(shop: Path) -> None:
    for suffix in ("-wal", "-shm", "-journal"):
        (shop / f"db.sqlite3{suffix}").write_bytes(b"")
    out = step(shop, "drop-db", "--env", "dev")
    assert not list(shop.glob("db.sqlite3*"))
    assert out.count("    delete ") == 4


def test_drop_db_if_exists_false_fails_on_a_missing_database(shop: Path) -> None:
    (shop / "db.sqlite3").unlink()
    result = run_djreset("drop-db", "--env", "dev", "--yes", "--no-if-exists", cwd=shop)
    assert result.code == 1
    assert "does not exist (set if_exists: true to accept that)" in result.err


def test_create_db_refuses_to_overwrite(shop: Path) -> None:
    before = tree_snapshot(shop)
    result = run_djreset("create-db", "--env", "dev", "--yes", cwd=shop)
    assert result.code == 1
    assert "already exists: run drop-db first" in result.err
    # The project as it was (create-db needs no backup: it only makes what was not there; its lock and journal are in .djreset/).
    assert {k: v for k, v in tree_snapshot(shop).items() if not k.startswith(".djreset/")} == before


def test_a_failed_recipe_that_starts_with_create_db_drops_what_it_created(shop: Path) -> None:
    """A lone create-db takes no backup (nothing to save); in a recipe, the backup still comes before it."""
    config = shop / "reset.yaml"
    config.write_text(config.read_text() + "  ensure:\n    database: {engine: sqlite, name: new.sqlite3}\n"
                      "    steps: [{create-db: {if_not_exists: true}}, migrate, {manage: loaddata nothere.json}]\n")
    failed = run_djreset("reset", "--env", "ensure", "--yes", cwd=shop)
    assert failed.code == 1, failed.text
    assert "rolled back: put back database default dropped (it did not exist before)" in failed.out, failed.text
    assert not (shop / "new.sqlite3").exists()
    backups = sorted((shop / ".djreset" / "backups").iterdir())
    assert run_djreset("create-db", "--env", "ensure", "--yes", cwd=shop).code == 0
    assert sorted((shop / ".djreset" / "backups").iterdir()) == backups


def test_manage_and_run_steps_alone(shop: Path) -> None:
    out = step(shop, "manage", "--env", "dev", "--command", "seed_demo")
    assert "demo data already present" in out
    step(shop, "run", "--env", "dev", "--command", "echo $DJANGO_SETTINGS_MODULE > settings.txt")
    assert (shop / "settings.txt").read_text() == "shop.settings\n"


def test_a_failing_project_command_is_one_line_and_names_the_command(shop: Path) -> None:
    result = run_djreset("manage", "--env", "dev", "--yes", "--command", "no_such_command", cwd=shop)
    assert result.code == 2  # refused before anything runs
    assert "manage: no management command 'no_such_command'" in result.err
    result = run_djreset("manage", "--env", "dev", "--yes", "--command", "shell -c 'import sys; sys.exit(3)'", cwd=shop)
    assert result.code == 1
    assert "manage.py shell exited with status 3" in result.err
    result = run_djreset("run", "--env", "dev", "--yes", "--command", "exit 3", cwd=shop)
    assert result.code == 1
    assert "`exit 3` exited with status 3" in result.err


def _project_with_an_app_in_a_virtualenv(shop: Path) -> None:
    """Install an app inside .venv/.../site-packages in the project, as pip would."""
    site = shop / ".venv" / "lib" / "python3.11" / "site-packages"
    app = site / "vendored"
    (app / "migrations").mkdir(parents=True)
    (shop / ".venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (app / "__init__.py").write_text("")
    (app / "models.py").write_text("from django.db import models\n\n\nclass Thing(models.Model):\n    name = models.CharField(max_length=10)\n")
    (app / "migrations" / "__init__.py").write_text("")
    (app / "migrations" / "0001_initial.py").write_text("# would be deleted by find . -path '*/migrations/*.py'\n")
    settings = shop / "shop" / "settings.py"
    settings.write_text(
        settings.read_text()
        + f"\nimport sys\nsys.path.insert(0, {str(site)!r})\nINSTALLED_APPS.append('vendored')\nMIGRATION_MODULES = {{'vendored': None}}\n"
    )


def test_an_app_inside_a_virtualenv_is_refused_and_untouched(shop: Path) -> None:
    _project_with_an_app_in_a_virtualenv(shop)
    config = shop / "reset.yaml"
    config.write_text(config.read_text().replace("apps: [accounts, catalog, orders]", "apps: [accounts, catalog, orders, vendored]"))
    before = tree_snapshot(shop)
    result = run_djreset("reset", "--env", "dev", "--yes", cwd=shop)
    assert result.code == 2, result.text
    assert "app 'vendored' is not the project's own code" in result.err
    assert tree_snapshot(shop) == before


def test_init_drafts_the_projects_own_apps_and_database(shop: Path) -> None:
    _project_with_an_app_in_a_virtualenv(shop)
    (shop / "reset.yaml").unlink()
    result = run_djreset("init", cwd=shop)
    assert result.code == 0, result.text
    draft = (shop / "reset.yaml").read_text()
    assert "apps: [accounts, catalog, orders]" in draft  # not vendored, not contrib
    assert "settings: shop.settings" in draft
    assert 'database: {engine: "sqlite", name: "db.sqlite3"}' in draft
    assert "data_migrations:\n  keep:\n    - catalog.0003_seed_categories  # RunPython: creates rows (get_or_create)" in draft
    assert "default_env: keep" in draft  # the database has history to keep
    out = step(shop, "plan", "--env", "keep")
    assert "would delete accounts/migrations/0001_initial.py" in out
    again = run_djreset("init", cwd=shop)
    assert again.code == 1 and "pass --force" in again.err


def test_init_drafts_what_its_own_plan_accepts_whatever_the_migrations_layout(shop: Path) -> None:
    """An app without models whose migrations MIGRATION_MODULES moves (and one whose migrations
    live in a project folder outside it) are listed; an app with models but no migrations is
    named in a comment, not listed: the keep recipe refuses it until it has migrations."""
    for label, body in (("notes", ""), ("legacy", "class Old(models.Model):\n    name = models.TextField()\n"), ("ledger", "class Entry(models.Model):\n    id = models.AutoField(primary_key=True)\n    amount = models.IntegerField()\n")):
        (shop / label).mkdir()
        (shop / label / "__init__.py").touch()
        (shop / label / "models.py").write_text("from django.db import models\n\n\n" + body)
    for package, migration in (("notes/db_migrations", "operations = [migrations.RunSQL('CREATE TABLE notes_audit (id integer)', migrations.RunSQL.noop)]"),
                               ("history/ledger", "operations = [migrations.CreateModel('Entry', [('id', models.AutoField(primary_key=True, serialize=False)), ('amount', models.IntegerField())])]")):
        folder = shop / package
        folder.mkdir(parents=True)
        (folder / "__init__.py").touch()
        (folder.parent / "__init__.py").touch()
        (folder / "0001_initial.py").write_text(f"from django.db import migrations, models\n\n\nclass Migration(migrations.Migration):\n    initial = True\n    {migration}\n")
    settings = shop / "shop" / "settings.py"
    settings.write_text(settings.read_text().replace('    "orders",\n', '    "orders",\n    "notes",\n    "legacy",\n    "ledger",\n')
                        + 'MIGRATION_MODULES = {"notes": "notes.db_migrations", "ledger": "history.ledger"}\n')
    assert manage(shop, "migrate", "-v0").returncode == 0
    (shop / "reset.yaml").unlink()
    assert run_djreset("init", cwd=shop).code == 0
    draft = (shop / "reset.yaml").read_text()
    assert "apps: [accounts, catalog, orders, notes, ledger]\n# not listed: legacy (models, no migrations)" in draft
    planned = run_djreset("plan", "--env", "keep", cwd=shop)
    assert planned.code == 0, planned.text
    assert "would delete history/ledger/0001_initial.py" in planned.out


def test_init_writes_server_passwords_as_variables(shop: Path) -> None:
    settings = shop / "shop" / "settings.py"
    settings.write_text(
        settings.read_text()
        + "\nDATABASES = {'default': {'ENGINE': 'django.db.backends.postgresql', 'NAME': 'shop', 'USER': 'shop',"
        " 'PASSWORD': 's3cret-in-settings', 'HOST': '127.0.0.1', 'PORT': '5432'}}\n"
    )
    (shop / "reset.yaml").unlink()
    result = run_djreset("init", cwd=shop)
    assert result.code == 0, result.text
    draft = (shop / "reset.yaml").read_text()
    assert "s3cret-in-settings" not in draft + result.text
    assert 'password: "${SHOP_DB_PASSWORD}"' in draft
    assert "engine: \"postgresql\", name: \"shop\", host: \"127.0.0.1\", port: 5432, user: \"shop\"" in draft


def test_measure_shows_what_the_reset_bought(shop: Path) -> None:
    first = step(shop, "measure", "--env", "keep")
    assert "migration files            -       14" in first
    step(shop, "reset", "--env", "keep")
    second = step(shop, "measure", "--env", "keep")
    line = next(line for line in second.splitlines() if "migration files" in line)
    assert line.split()[-2:] == ["14", "4"], second
    assert "migrate an empty database" in second
    assert "catalog" in second and "2 files, 4 ops" in second
