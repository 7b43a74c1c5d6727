"""Large real projects reset cleanly: fixture projects that each carry a trait of one.

Each is reset with the README's keep recipe on every engine where its trait
exists, and proved as a user would: exit 0 (or a refusal with nothing
touched), schema and data identical, other apps' history identical,
``migrate --check`` and ``makemigrations --check`` passing in a subprocess,
and a fresh database built with plain ``manage.py migrate`` from the new files
having the live schema and the seeded rows (``assert_kept``).
"""
from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from conftest import ENGINES, REPO, Target, migration_files, prepared, tree_snapshot
from test_keep import assert_kept, project_files, tag

PROJECTS = REPO / "tests" / "projects"
INVENTORY, EXPRINDEX, COLLATION, GUARDED, SQUASHED, EXTENSIONS = (
    PROJECTS / name for name in ("inventory", "exprindex", "collation", "guarded", "squashed", "extensions")
)


def others(state: dict, apps: tuple[str, ...]) -> list[list[str]]:
    return [row for row in state["history"] if row[0] not in apps]


def reset_keep(target: Target, apps: tuple[str, ...], **env: str) -> tuple[dict, str]:
    before = target.introspect()
    result = target.djreset("reset", "--env", "keep", "--yes", env=target.env(**env) if env else None)
    assert result.code == 0, result.text
    assert "Conflicting migrations" not in result.text
    after = assert_kept(target, before, apps)
    assert others(after, apps) == others(before, apps)
    return after, result.out


@pytest.fixture(params=ENGINES)
def inventory(request: pytest.FixtureRequest, tmp_path: Path):
    with prepared(request.param, INVENTORY, "inventory.settings", ("seed",), tmp_path) as ready:
        yield ready


def test_data_migrations_of_every_kind_and_an_unlisted_app_on_0001_initial(inventory: Target) -> None:
    """Two kept RunPython seeds and a RunSQL in one app form one chain after its
    initial migration; an unlisted app depending on its 0001_initial keeps working."""
    after, out = reset_keep(inventory, ("library",))
    name = tag(inventory.project)
    assert migration_files(inventory.project, "library") == [
        f"0001_{name}.py", f"0002_{name}_seed_genres.py", f"0003_{name}_load_settings.py", f"0004_{name}_title_index.py", "__init__.py"
    ]
    chained = (inventory.project / "library" / "migrations" / f"0003_{name}_load_settings.py").read_text()
    assert f"('library', '0002_{name}_seed_genres')" in chained
    assert "replaces = [('library', '0007_load_settings')]" in chained
    assert ["reviews", "0001_initial"] in after["history"]
    assert "default: consistent; migrate --check passes" in out


def test_init_drafts_a_reason_for_each_decision_and_the_draft_passes_plan(tmp_path: Path) -> None:
    with prepared("sqlite", INVENTORY, "inventory.settings", ("seed",), tmp_path) as target:
        (target.project / "reset.yaml").unlink()
        made = target.djreset("init")
        assert made.code == 0, made.text
        assert ("note: 1 data migration(s) fail on the new history and are drafted as drop (library.0010_fill_legacy): "
                "a fresh database built from the new files lacks what they would make") in made.out
        draft = (target.project / "reset.yaml").read_text()
        expected = {
            "library.0003_seed_genres": ("keep", "RunPython: creates rows (bulk_create)"),
            "library.0007_load_settings": ("keep", "RunPython: creates rows (get_or_create)"),
            "library.0013_title_index": ("keep", "RunSQL: creates database objects"),
            "library.0004_book_isbn": ("drop", "SeparateDatabaseAndState: what it did is part of the new initial migration"),
            "library.0008_author_slug": ("drop", "SeparateDatabaseAndState"),
            "library.0005_backfill_isbn": ("drop", "only updates or deletes existing rows"),
            "library.0012_recount": ("drop", "elidable=True"),
            "library.0010_fill_legacy": ("drop", "fails on the new history (LookupError: App 'library' doesn't have a 'LegacyCount' model"),
        }
        sections = {"keep": draft[draft.index("  keep:"):draft.index("  drop:")], "drop": draft[draft.index("  drop:"):draft.index("environments:")]}
        lines = {line.split()[1]: line for line in draft.splitlines() if line.startswith("    - ")}
        assert set(lines) == set(expected)
        for entry, (verdict, reason) in expected.items():
            assert lines[entry] in sections[verdict] and reason in lines[entry], lines[entry]
        assert "default_env: keep" in draft and "apps: [library, reviews]" in draft
        files = tree_snapshot(target.project)
        planned = target.djreset("plan")  # the default environment: keep
        assert planned.code == 0, planned.text
        assert "environment keep" in planned.out and "check: ok" in planned.out
        assert tree_snapshot(target.project) == files


def test_init_tries_the_kept_migrations_with_the_settings_password_and_never_writes_it(tmp_path: Path) -> None:
    """The draft names the server password by variable; before the user exports it, init's trial
    still runs (the settings' own password, in its own process), so the draft passes plan as drafted."""
    with prepared("postgresql", INVENTORY, "inventory.settings", ("seed",), tmp_path) as target:
        (target.project / "reset.yaml").unlink()
        # The settings' user may create databases (a scratch one): the admin here.
        user, password = target.server.users["admin"]
        admin = {**target.server.django_database(target.database), "USER": user, "PASSWORD": password}
        env = target.env(DJT_DATABASE=json.dumps(admin))
        made = target.djreset("init", "--settings", "test_settings", env=env)
        assert made.code == 0, made.text
        draft = (target.project / "reset.yaml").read_text()
        assert admin["PASSWORD"] not in draft + made.text and "could not try" not in made.text
        assert 'password: "${TEST_SETTINGS_DB_PASSWORD}"' in draft
        legacy = next(line for line in draft.splitlines() if "library.0010_fill_legacy" in line)
        assert "RunPython: fails on the new history" in legacy  # the trial ran
        planned = target.djreset("plan", env={**env, "TEST_SETTINGS_DB_PASSWORD": admin["PASSWORD"]})
        assert planned.code == 0, planned.text


def test_init_keeps_the_operations_of_a_failing_migration_that_work(tmp_path: Path) -> None:
    """0010_fill_legacy also creates an index, a table and an index on it by RunSQL: its RunPython fails
    on the new history, the others do not (the last one with the table before it), so only the first
    goes to drop (the index would be lost, and verify refuse)."""
    project = tmp_path / "inventory"
    shutil.copytree(INVENTORY, project, ignore=shutil.ignore_patterns("__pycache__", "*.sqlite3*", ".djreset"))
    legacy = project / "library" / "migrations" / "0010_fill_legacy.py"
    legacy.write_text(legacy.read_text().replace(
        "operations = [migrations.RunPython(fill, migrations.RunPython.noop)]",
        "operations = [\n        migrations.RunPython(fill, migrations.RunPython.noop),\n"
        "        migrations.RunSQL('CREATE INDEX library_genre_name_legacy ON library_genre (name)', migrations.RunSQL.noop),\n"
        "        migrations.RunSQL('CREATE TABLE library_side (v integer)', migrations.RunSQL.noop),\n"
        "        migrations.RunSQL('CREATE INDEX library_side_v ON library_side (v)', migrations.RunSQL.noop),\n    ]",
    ))
    target = Target("sqlite", project, settings="inventory.settings")
    assert target.manage("migrate", "-v0").returncode == 0 and target.manage("seed").returncode == 0
    (project / "reset.yaml").unlink()
    made = target.djreset("init")
    assert made.code == 0, made.text
    lines = {line.split()[1]: line for line in (project / "reset.yaml").read_text().splitlines() if line.startswith("    - ")}
    assert "RunPython: fails on the new history (LookupError" in lines["library.0010_fill_legacy:1"]
    assert "RunSQL: creates database objects" in lines["library.0010_fill_legacy:2"]
    assert "RunSQL: creates database objects" in lines["library.0010_fill_legacy:4"]  # tried with the table :3 makes
    planned = target.djreset("plan")
    assert planned.code == 0, planned.text


def test_a_kept_migration_failing_in_the_database_does_not_fail_the_ones_after_it(tmp_path: Path) -> None:
    """Genre.rank came later, NOT NULL without a default: 0003's bulk_create fails on the new history with
    an IntegrityError inside its transaction.  On SQLite, the schema editor's exit then checked constraints
    in the broken transaction, and every later kept migration (0007) was reported failing with it."""
    project = tmp_path / "inventory"
    shutil.copytree(INVENTORY, project, ignore=shutil.ignore_patterns("__pycache__", "*.sqlite3*", ".djreset"))
    models = project / "library" / "models.py"
    models.write_text(models.read_text().replace(
        "    name = models.CharField(max_length=50, unique=True)\n", "    name = models.CharField(max_length=50, unique=True)\n    rank = models.IntegerField()\n", 1))
    (project / "library" / "migrations" / "0014_genre_rank.py").write_text(
        "from django.db import migrations, models\n\n\nclass Migration(migrations.Migration):\n"
        "    dependencies = [(\"library\", \"0013_title_index\")]\n"
        "    operations = [migrations.AddField(\"genre\", \"rank\", models.IntegerField(default=0), preserve_default=False)]\n")
    target = Target("sqlite", project, settings="inventory.settings")
    assert target.manage("migrate", "-v0").returncode == 0 and target.manage("seed").returncode == 0
    result = target.djreset("check", "--env", "keep")
    assert result.code == 1, result.text
    assert "library.0003_seed_genres fails on the new history: IntegrityError: NOT NULL constraint failed: library_genre.rank" in result.out
    assert "TransactionManagementError" not in result.text and "0007_load_settings fails" not in result.out
    (project / "reset.yaml").unlink()
    made = target.djreset("init")
    assert made.code == 0, made.text
    lines = {line.split()[1]: line for line in (project / "reset.yaml").read_text().splitlines() if line.startswith("    - ")}
    assert "fails on the new history (IntegrityError" in lines["library.0003_seed_genres"]
    assert "creates rows (get_or_create)" in lines["library.0007_load_settings"]


def test_a_kept_migration_depending_on_the_user_model_is_written_with_its_setting(tmp_path: Path) -> None:
    """swappable_dependency(settings.AUTH_USER_MODEL) in a kept migration: Django keeps only the setting's
    value ("auth.User"), which the carried file named as a setting and could not load (record-new failed)."""
    with prepared("sqlite", INVENTORY, "inventory.settings", (), tmp_path) as target:
        origin = target.project / "library" / "migrations" / "0007_load_settings.py"
        # Module code reading __file__ (a .sql file beside it, often) runs as Django would import the carried file.
        origin.write_text(origin.read_text().replace("from django.db import migrations", "from pathlib import Path\n\nfrom django.conf import settings\n"
                                                     "from django.db import migrations\n\nHERE = Path(__file__).resolve().parent").replace(
            'dependencies = [("library", "0006_sitesetting")]',
            'dependencies = [("library", "0006_sitesetting"), migrations.swappable_dependency(settings.AUTH_USER_MODEL)]'))
        target.manage("seed")
        before = target.introspect()
        result = target.djreset("reset", "--env", "keep", "--yes")
        assert result.code == 0, result.text
        carried = next((target.project / "library" / "migrations").glob("*_load_settings.py")).read_text()
        assert "migrations.swappable_dependency(settings.AUTH_USER_MODEL)," in carried
        assert_kept(target, before, ("library",))


def test_a_kept_migration_whose_class_builds_its_operations_in_code_is_refused_before_anything(tmp_path: Path) -> None:
    """Operations chosen by `if connection.vendor` in the class body (wagtail's search index): the file
    djreset would write keeps the code and with it the state operations the initial migration already
    has; plan and reset refuse it, naming what would be written, and nothing changes."""
    with prepared("sqlite", INVENTORY, "inventory.settings", ("seed",), tmp_path) as target:
        index = target.project / "library" / "migrations" / "0013_title_index.py"
        sql = 'migrations.RunSQL("CREATE INDEX library_book_title_idx ON library_book (title)", migrations.RunSQL.noop)'
        index.write_text(
            "from django.db import connection, migrations, models\n\n\nclass Migration(migrations.Migration):\n"
            '    dependencies = [("library", "0012_recount")]\n'
            '    if connection.vendor == "sqlite":\n'
            f'        operations = [migrations.AlterField("book", "title", models.CharField(max_length=200)), {sql}]\n'
            "    else:\n"
            f"        operations = [{sql}]\n")
        files, database = project_files(target), target.introspect()
        for task in ("plan", "reset"):
            result = target.djreset(task, "--env", "keep", "--yes")
            assert result.code == 1, result.text
            assert ("the kept data migration library.0013_title_index would be written with 2 operation(s) (AlterField, RunSQL), "
                    "not the 1 kept (RunSQL)") in result.err, task
        assert project_files(target) == files and target.introspect() == database


def test_an_extension_reset_yaml_drops_is_one_a_fresh_database_lacks(tmp_path: Path) -> None:
    """Dropping the migration that creates pg_trgm: the scratch database does not get it ready-made
    either, so check refuses, and says why."""
    with prepared("postgresql", EXTENSIONS, "extensions.settings", ("seed",), tmp_path) as target:
        config = target.project / "reset.yaml"
        config.write_text(config.read_text().replace("shop.0002_trigram, ", "").replace("environments:", "  drop: [shop.0002_trigram]\nenvironments:"))
        result = target.djreset("check", "--env", "keep")
        assert result.code == 1, result.text
        assert "gin_trgm_ops" in result.out and "the scratch database gets no ready-made extension hstore, pg_trgm" in result.out


def test_check_lists_every_problem_of_the_data_migrations_in_one_run(tmp_path: Path) -> None:
    with prepared("sqlite", INVENTORY, "inventory.settings", ("seed",), tmp_path) as target:
        config = target.project / "reset.yaml"
        text = config.read_text()
        for name in ("0004_book_isbn", "0005_backfill_isbn", "0008_author_slug", "0010_fill_legacy"):
            text = "\n".join(line for line in text.splitlines() if f"library.{name} " not in line) + "\n"
        config.write_text(text.replace("  keep:\n", "  keep:\n    - library.0004_book_isbn\n    - library.0008_author_slug\n    - library.0010_fill_legacy\n", 1))
        files, database = project_files(target), target.introspect()
        result = target.djreset("check", "--env", "keep")
        assert result.code == 1, result.text
        assert "library/migrations/0005_backfill_isbn.py:16: library.0005_backfill_isbn operation 1: RunPython" in result.out
        assert "2 kept operation(s) cannot be carried" in result.out
        assert "library.0004_book_isbn operation 1: SeparateDatabaseAndState" in result.out
        assert "library.0008_author_slug operation 1: SeparateDatabaseAndState" in result.out
        assert "kept data migration library.0010_fill_legacy fails on the new history: LookupError" in result.out
        assert "check: 3 problem(s), nothing was changed" in result.err
        assert project_files(target) == files and target.introspect() == database


@pytest.mark.parametrize("engine", ENGINES)
def test_expression_and_functional_indexes_and_unique_constraints(engine: str, tmp_path: Path) -> None:
    with prepared(engine, EXPRINDEX, "exprindex.settings", ("seed",), tmp_path) as target:
        reset_keep(target, ("parts",))
        assert migration_files(target.project, "parts") == [f"0001_{tag(target.project)}.py", "__init__.py"]


def test_an_icu_collation_of_one_app_used_by_three_apps(tmp_path: Path) -> None:
    """The carried CreateCollation runs before the first new migration of every listed app."""
    with prepared("postgresql", COLLATION, "collation.settings", ("seed",), tmp_path) as target:
        reset_keep(target, ("core", "dcim", "ipam"))
        name = tag(target.project)
        carried = (target.project / "core" / "migrations" / f"0002_{name}_natural_sort.py").read_text()
        assert f"run_before = [('core', '0001_{name}'), ('dcim', '0001_{name}'), ('ipam', '0001_{name}')]" in carried
        names = [row for row in target.introspect()["rows"]["dcim_device"]]
        assert len(names) == 3


def test_extensions_that_migrations_make_come_before_what_uses_them(tmp_path: Path) -> None:
    """HStoreExtension() before the CreateModel of 0001_initial, which an unlisted app depends
    on, goes first into shop's first new migration (so that app still gets the table); the
    RunSQL making pg_trgm runs before it; a dependency written by hand on the unlisted app
    making citext stays; the RunSQL of a model-less app making a table an unmanaged model maps
    keeps its run_before.  The scratch database gets no extension ready-made."""
    with prepared("postgresql", EXTENSIONS, "extensions.settings", ("seed",), tmp_path) as target:
        reset_keep(target, ("shop", "legacy"))
        name = tag(target.project)
        rates = (target.project / "legacy" / "migrations" / f"0001_{name}_rates.py").read_text()
        assert f"run_before = [('shop', '0001_{name}')]" in rates  # its origin's, on shop's new first migration
        assert migration_files(target.project, "shop") == [f"0001_{name}.py", f"0002_{name}_trigram.py", f"0003_{name}_seed_items.py", "__init__.py"]
        first = (target.project / "shop" / "migrations" / f"0001_{name}.py").read_text()
        assert "djreset_inlined_from = {1: 'shop.0001_initial'}" in first
        assert first.index("HStoreExtension(") < first.index("CreateModel(")
        assert "('shop', '0001_initial')" in first[first.index("replaces"):first.index("dependencies")]
        assert "('zext', '0001_citext')" in first[first.index("dependencies = ["):first.index("operations = [")]  # written by hand
        trigram = (target.project / "shop" / "migrations" / f"0002_{name}_trigram.py").read_text()
        assert f"run_before = [('shop', '0001_{name}')]" in trigram
        again = target.djreset("verify", "--env", "keep")  # the files on disk: the moved operation counts as kept
        assert again.code == 0, again.text


@pytest.mark.parametrize("engine", ENGINES)
def test_the_projects_signals_and_makemigrations_override_neither_block_nor_change_the_reset(engine: str, tmp_path: Path) -> None:
    """No model signal fires (the receiver raises without its service), the project's
    makemigrations (which refuses) is never called but imported (its patch of Field.deconstruct
    leaves help texts out of what makemigrations compares), and no row is added anywhere."""
    with prepared(engine, GUARDED, "guarded.settings", ("seed",), tmp_path) as target:
        target.extra_env["LEDGER_ALLOW_MAKEMIGRATIONS"] = "1"  # the user's own checks run with the setting on
        before = target.introspect()
        result = target.djreset("reset", "--env", "keep", "--yes", env=target.env(LEDGER_ALLOW_MAKEMIGRATIONS="0"))
        assert result.code == 0, result.text
        after = assert_kept(target, before, ("ledger",))
        assert others(after, ("ledger",)) == others(before, ("ledger",))
        assert migration_files(target.project, "ledger") == [f"0001_{tag(target.project)}.py", "__init__.py"]
        written = (target.project / "ledger" / "migrations" / f"0001_{tag(target.project)}.py").read_text()
        assert "Generated by Django" in written
        # Written as the project's makemigrations writes (imported, it patches Field.deconstruct as NetBox's does).
        assert "help_text" not in written and "verbose_name='booked on'" not in written


def source_files(target: Target) -> dict:
    return {path: data for path, data in project_files(target).items() if ".sqlite3" not in path}


@pytest.mark.parametrize("engine", ENGINES[:2])
def test_rollback_and_restore_write_history_without_model_signals(engine: str, tmp_path: Path) -> None:
    with prepared(engine, GUARDED, "guarded.settings", ("seed",), tmp_path) as target:
        before, files = target.introspect(), source_files(target)
        # Stopped (SIGTERM) right after record-new: the rollback puts the old history back.
        stopped = target.djreset("reset", "--env", "keep", "--yes", env=target.env(DJRESET_FAULT="term:after:5"))
        assert stopped.code == 143, stopped.text
        assert "rolled back: put back the django_migrations rows of ledger on default; the migration files" in stopped.out
        assert source_files(target) == files
        assert target.introspect() == before
        done = target.djreset("reset", "--env", "keep", "--yes")
        assert done.code == 0, done.text
        restored = target.djreset("restore", "--env", "keep", "--yes")
        assert restored.code == 0, restored.text
        assert target.introspect() == before  # ids and timestamps of every row too; no row added
        target.manage("migrate", "--check")


def test_sqlite_database_outside_the_project_by_absolute_path(migrated_template: Path, tmp_path: Path) -> None:
    """As many settings keep it: init writes the absolute path, plan and the keep reset accept it."""
    project = tmp_path / "src" / "shop"
    shutil.copytree(migrated_template, project)
    data = tmp_path / "var" / "shop.sqlite3"
    data.parent.mkdir()
    shutil.move(project / "db.sqlite3", data)
    settings = project / "shop" / "settings.py"
    settings.write_text(settings.read_text() + f"\nDATABASES['default']['NAME'] = {str(data)!r}\n")
    (project / "reset.yaml").unlink()
    target = Target("sqlite", project)
    assert target.djreset("init").code == 0
    assert f'name: "{data}"' in (project / "reset.yaml").read_text()
    before = target.introspect()
    planned = target.djreset("plan", "--env", "keep")
    assert planned.code == 0, planned.text
    result = target.djreset("reset", "--env", "keep", "--yes")
    assert result.code == 0, result.text
    assert_kept(target, before)
    assert not (project / "db.sqlite3").exists()


def test_djreset_keeps_its_own_files_out_of_git_status(shop: Path) -> None:
    subprocess.run(["git", "init", "-q"], cwd=shop, check=True)
    subprocess.run(["git", "add", "-A"], cwd=shop, check=True)
    subprocess.run(["git", "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "before"], cwd=shop, check=True)
    target = Target("sqlite", shop)
    assert target.djreset("reset", "--env", "keep", "--yes").code == 0
    assert target.djreset("measure", "--env", "keep").code == 0
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=shop, capture_output=True, text=True, check=True).stdout
    assert ".djreset" not in status, status
    assert "reset-history.json" in status  # committed with the new files, on purpose


@pytest.mark.parametrize("engine", ENGINES)
def test_the_projects_own_squashes_are_old_history(engine: str, tmp_path: Path) -> None:
    """A squash that kept its replaces (its originals deleted, or still there) is
    replaced with what it replaces; an unlisted app's dependency on a squashed
    original follows to the new migration; a fresh database builds."""
    with prepared(engine, SQUASHED, "squashed.settings", ("seed",), tmp_path) as target:
        after, out = reset_keep(target, ("catalog", "orders"))
        name = tag(target.project)
        assert migration_files(target.project, "catalog") == [f"0001_{name}.py", "__init__.py"]
        new = (target.project / "catalog" / "migrations" / f"0001_{name}.py").read_text()
        # The squash itself is replaced by none: a teammate's database that ran what it replaces counts.
        assert "replaces = [('catalog', '0001_initial'), ('catalog', '0002_item_price'), ('catalog', '0003_item_code')]" in new
        assert ["reports", "0001_initial"] in after["history"]
        assert "default: consistent; migrate --check passes" in out


def test_a_teammate_who_never_recorded_the_squash_deploys_with_plain_migrate(tmp_path: Path) -> None:
    """Their database ran the originals (Django recorded those) but no migrate since the squash
    arrived: the new migrations count as applied there, and the gift card is not seeded twice."""
    from test_deploy import ship

    with prepared("sqlite", SQUASHED, "squashed.settings", ("seed",), tmp_path / "reset") as target:
        with prepared("sqlite", SQUASHED, "squashed.settings", ("seed",), tmp_path / "teammate") as teammate:
            with sqlite3.connect(teammate.project / "db.sqlite3") as db:
                db.execute("DELETE FROM django_migrations WHERE name LIKE '%squashed%'")
            before = teammate.introspect()
            reset_keep(target, ("catalog", "orders"))
            ship(target.project, teammate, ("catalog", "orders"))
            migrated = teammate.manage("migrate")
            assert "No migrations to apply" in migrated.stdout, migrated.stdout
            assert teammate.introspect()["rows"] == before["rows"]
            teammate.manage("migrate", "--check")


def test_a_squash_applied_but_not_recorded_is_refused_before_anything_changes(tmp_path: Path) -> None:
    with prepared("sqlite", SQUASHED, "squashed.settings", ("seed",), tmp_path) as target:
        with sqlite3.connect(target.project / "db.sqlite3") as db:  # as after deploying the squash, before migrate
            db.execute("DELETE FROM django_migrations WHERE app = 'orders' AND name = '0001_squashed_0002_order_note'")
        files = source_files(target)
        before = target.introspect()
        result = target.djreset("reset", "--env", "keep", "--yes")
        assert result.code == 1, result.text
        assert "orders.0001_squashed_0002_order_note is applied but not recorded (a squash): run `manage.py migrate`" in result.text
        assert source_files(target) == files
        assert target.introspect() == before
        target.manage("migrate", "-v0")
        assert target.djreset("reset", "--env", "keep", "--yes").code == 0


def test_a_cutoff_naming_a_squashed_migration_says_which_squash_to_name(tmp_path: Path) -> None:
    with prepared("sqlite", SQUASHED, "squashed.settings", (), tmp_path) as target:
        config = target.project / "reset.yaml"
        config.write_text(config.read_text() + "cutoff: {orders: 0002_order_note}\n")
        files = tree_snapshot(target.project)
        result = target.djreset("plan", "--env", "keep")
        assert result.code == 2, result.text
        assert "reset.yaml:9: cutoff.orders: orders has no migration '0002_order_note' in its graph: the squash " \
               "0001_squashed_0002_order_note replaces it; name 0001_squashed_0002_order_note (or a later migration)" in result.err
        assert tree_snapshot(target.project) == files


def test_a_second_alias_of_the_same_database_is_acted_on_once(shop: Path, tmp_path: Path) -> None:
    """Nautobot's job_logs alias points at the default database: init drafts both, and a reset acts on
    that database once (the dev recipe dropped and created it twice, and failed)."""
    settings = shop / "shop" / "settings.py"
    settings.write_text(settings.read_text() + '\nDATABASES["logs"] = dict(DATABASES["default"])\n')
    (shop / "reset.yaml").unlink()
    target = Target("sqlite", shop)
    assert target.djreset("init").code == 0
    assert 'logs: {engine: "sqlite", name: "db.sqlite3"}' in (shop / "reset.yaml").read_text()
    other = Target("sqlite", shutil.copytree(shop, tmp_path / "other" / "shop"))
    before = target.introspect()
    kept = target.djreset("reset", "--env", "keep", "--yes")
    assert kept.code == 0, kept.text
    assert "logs" not in kept.out
    assert_kept(target, before)
    dropped = other.djreset("reset", "--env", "dev", "--yes")
    assert dropped.code == 0, dropped.text
    other.manage("migrate", "--check")


MOVED = PROJECTS / "moved"


@pytest.mark.parametrize("engine", ENGINES[:2])
def test_models_moved_between_apps_need_both_apps_in_the_reset(engine: str, tmp_path: Path) -> None:
    """Box moved from shelf to archive, Crate from intake to shelf, tables kept (SeparateDatabaseAndState).
    Resetting shelf alone would leave a fresh database without shelf_box and creating intake_crate twice
    (the scratch database, built from the models, cannot show it): refused, naming the apps to add; with
    them, the reset keeps everything and a fresh database has both tables."""
    with prepared(engine, MOVED, "moved.settings", ("seed",), tmp_path) as target:
        files, database = project_files(target), target.introspect()
        refused = target.djreset("plan", "--env", "keep")
        assert refused.code == 1, refused.text
        assert ("archive.Box uses the table shelf_box, which only shelf.0001_initial creates (the model moved out of shelf by "
                "SeparateDatabaseAndState): a fresh database would lack it; add 'archive' to apps") in refused.err
        assert "shelf.Crate's table intake_crate is also created by intake.0001_initial" in refused.err
        assert project_files(target) == files and target.introspect() == database
        config = target.project / "reset.yaml"
        config.write_text(config.read_text().replace("apps: [shelf]", "apps: [shelf, archive, intake]"))
        result = target.djreset("reset", "--env", "keep", "--yes")
        assert result.code == 0, result.text
        assert_kept(target, database, ("shelf", "archive", "intake"))


def test_a_kept_migration_gets_the_models_the_whole_plan_made_before_it(shop: Path) -> None:
    """orders.0006 makes a staff user; it depends on the user model's app only (__first__), whose
    later migrations add NOT NULL columns with defaults.  Plain migrate on an empty database gives it
    the state of everything the plan ran before it (phone included), so it works there; check tried
    it with its ancestry's state only (the user model without phone) and refused it."""
    (shop / "orders" / "migrations" / "0006_staff_user.py").write_text(
        "from django.conf import settings\nfrom django.db import migrations\n\n\n"
        "def staff(apps, schema_editor):\n"
        "    User = apps.get_model(*settings.AUTH_USER_MODEL.split('.'))\n"
        "    User.objects.using(schema_editor.connection.alias).get_or_create(username='orders-bot')\n\n\n"
        "class Migration(migrations.Migration):\n"
        "    dependencies = [('orders', '0005_order_status_index'), migrations.swappable_dependency(settings.AUTH_USER_MODEL)]\n"
        "    operations = [migrations.RunPython(staff, migrations.RunPython.noop)]\n")
    config = shop / "reset.yaml"
    config.write_text(config.read_text().replace("apps: [accounts, catalog, orders]", "apps: [catalog, orders]")
                      .replace("  keep: [", "  keep: [orders.0006_staff_user, ", 1))
    target = Target("sqlite", shop)
    target.manage("migrate", "-v0")
    before = target.introspect()
    result = target.djreset("reset", "--env", "keep", "--yes")
    assert result.code == 0, result.text
    assert_kept(target, before, ("catalog", "orders"), ())


def test_a_custom_user_model_on_the_auth_user_table_is_not_a_moved_model(shop: Path) -> None:
    """Nautobot's users.User keeps the table auth_user: auth.0001_initial's User is swapped out and creates
    no table on a fresh database, so the reset is not refused as if the model moved in from auth."""
    models = shop / "accounts" / "models.py"
    models.write_text(models.read_text().replace(
        '    loyalty_points = models.PositiveIntegerField(default=0)\n',
        '    loyalty_points = models.PositiveIntegerField(default=0)\n\n    class Meta:\n        db_table = "auth_user"\n', 1))
    (shop / "accounts" / "migrations" / "0005_user_table.py").write_text(
        "from django.db import migrations\n\n\nclass Migration(migrations.Migration):\n"
        "    dependencies = [('accounts', '0004_user_loyalty_points')]\n"
        "    operations = [migrations.AlterModelOptions('user', {}), migrations.AlterModelTable('user', 'auth_user')]\n")
    target = Target("sqlite", shop)
    target.manage("migrate", "-v0")
    before = target.introspect()
    result = target.djreset("reset", "--env", "keep", "--yes")
    assert result.code == 0, result.text
    assert_kept(target, before)


def test_a_moved_model_whose_table_was_renamed_on_the_way_is_seen(tmp_path: Path) -> None:
    """The usual move renames the table too (AlterModelTable on the database side): shelf_box becomes
    archive_box as Box leaves shelf, so only shelf.0002 makes that table."""
    project = tmp_path / "moved"
    shutil.copytree(MOVED, project, ignore=shutil.ignore_patterns("__pycache__", "*.sqlite3*", ".djreset"))
    leaving = project / "shelf" / "migrations" / "0002_box_moves_out.py"
    leaving.write_text(leaving.read_text().replace(
        "migrations.SeparateDatabaseAndState(state_operations=[migrations.DeleteModel(\"Box\")])",
        "migrations.SeparateDatabaseAndState(database_operations=[migrations.AlterModelTable(\"Box\", \"archive_box\")], "
        "state_operations=[migrations.DeleteModel(\"Box\")])"))
    for path in (project / "archive" / "migrations" / "0001_initial.py", project / "archive" / "models.py"):
        path.write_text(path.read_text().replace("shelf_box", "archive_box"))
    config = project / "reset.yaml"
    config.write_text(config.read_text().replace("apps: [shelf]", "apps: [shelf, intake]"))
    target = Target("sqlite", project, settings="moved.settings")
    assert target.manage("migrate", "-v0").returncode == 0 and target.manage("seed").returncode == 0
    refused = target.djreset("plan", "--env", "keep")
    assert refused.code == 1, refused.text
    assert "archive.Box uses the table archive_box, which only shelf.0002_box_moves_out creates" in refused.err
