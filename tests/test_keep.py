"""Keep-the-database resets: what the hand recipe gets silently wrong, on every engine.

After every successful keep reset the schema (introspection) and the data rows
must be identical to before; every refusal must leave files and database as
they were.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conftest import APPS, ENGINES, EXAMPLE, REPO, Target, migration_files, prepared, tree_snapshot

CYCLE = REPO / "tests" / "projects" / "cycle"


def project_files(target: Target) -> dict:
    """The project's files, without djreset's own bookkeeping (.djreset/: the lock)."""
    return {path: data for path, data in tree_snapshot(target.project).items() if not path.startswith(".djreset/")}


def assert_unchanged(target: Target, files: dict, database: dict) -> None:
    assert project_files(target) == files
    assert target.introspect() == database


# Tables the kept data migrations of each fixture project fill: a fresh database must have their rows.
SEEDED = {"shop": ("catalog_category",), "cycle": (), "squashed": ("catalog_item",), "inventory": ("library_genre", "library_sitesetting")}


def assert_kept(target: Target, before: dict, apps: tuple[str, ...] = APPS, seeded: tuple[str, ...] | None = None) -> dict:
    """Schema and data as before; Django's own checks pass as the user runs them;
    and a fresh database built from the new files has the live schema and the seeded rows."""
    after = target.introspect()
    assert after["schema"] == before["schema"]
    assert after["rows"] == before["rows"]
    target.manage("migrate", "--check")
    target.manage("makemigrations", "--check", "--dry-run")
    assert_fresh_database_matches(target, after, apps, SEEDED.get(target.project.name, ()) if seeded is None else seeded)
    return after


def assert_fresh_database_matches(target: Target, live: dict, apps: tuple[str, ...], seeded: tuple[str, ...]) -> None:
    fresh = target.fresh()
    assert fresh["schema"] == live["schema"]
    for table, rows in fresh["rows"].items():
        if table.split("_")[0] in apps:  # rows a migration made are rows the live database has
            assert set(rows) <= set(live["rows"][table]), table
    for table in seeded:
        assert fresh["rows"][table], f"{table}: the kept data migration did not run on a fresh database"


def listed_history(state: dict, apps: tuple[str, ...] = APPS) -> list[list[str]]:
    return [row for row in state["history"] if row[0] in apps]


def old_names(source: Path = EXAMPLE, apps: tuple[str, ...] = APPS) -> list[list[str]]:
    """The migrations a project had before a reset: [app, name] rows, sorted."""
    return sorted([app, path.stem] for app in apps for path in (source / app / "migrations").glob("0*.py"))


def written(project: Path) -> dict[str, list[str]]:
    """Per app, the migrations the reset wrote (reset-history.json's "new")."""
    return {app: entry["new"] for app, entry in json.loads((project / "reset-history.json").read_text())["apps"].items()}


def tag(project: Path) -> str:
    """The reset's tag in every new name: reset_20261125 from 0001_reset_20261125."""
    first = next(names[0] for names in written(project).values() if names)
    return re.match(r"\d+_(reset_\d{8}(?:_\d+)?)", first).group(1)


def new_rows(project: Path) -> list[list[str]]:
    return sorted([app, name] for app, names in written(project).items() for name in names)


@pytest.fixture(params=ENGINES)
def cycle(request: pytest.FixtureRequest, tmp_path: Path):
    """Two apps with foreign keys to each other, migrated and seeded, on each engine."""
    with prepared(request.param, CYCLE, "cycle.settings", ("seed",), tmp_path) as ready:
        yield ready


def test_fk_cycle_makes_0001_and_0002_and_records_both(cycle: Target) -> None:
    before = cycle.introspect()
    result = cycle.djreset("reset", "--env", "keep", "--yes")
    assert result.code == 0, result.text
    name = tag(cycle.project)
    assert migration_files(cycle.project, "left") == [f"0001_{name}.py", f"0002_{name}.py", "__init__.py"]
    assert migration_files(cycle.project, "right") == [f"0001_{name}.py", "__init__.py"]
    after = assert_kept(cycle, before, ("left", "right"))
    # Every new migration, the one the cycle adds too, replaces an old one: all recorded, the old rows kept.
    assert listed_history(after, ("left", "right")) == sorted(old_names(CYCLE, ("left", "right")) + new_rows(cycle.project))
    left = (cycle.project / "left" / "migrations" / f"0002_{name}.py").read_text()
    assert "replaces = [('left', '0002_author_favourite_book')]" in left


def test_custom_user_model_and_admin_history_untouched(target: Target) -> None:
    before = target.introspect()
    result = target.djreset("reset", "--env", "keep", "--yes")
    assert result.code == 0, result.text
    assert "InconsistentMigrationHistory" not in result.text
    after = assert_kept(target, before)
    others = lambda state: [row for row in state["history"] if row[0] not in APPS]  # noqa: E731
    assert others(after) == others(before)
    assert ["admin", "0003_logentry_add_action_flag_choices"] in others(after)


def add_reports_app(target: Target, dependencies: str) -> None:
    """An app outside the list with a foreign key to catalog, its migration tied to catalog's history."""
    app = target.project / "reports"
    (app / "migrations").mkdir(parents=True)
    (app / "__init__.py").write_text("")
    (app / "migrations" / "__init__.py").write_text("")
    (app / "models.py").write_text(
        "from django.db import models\n\n\nclass Report(models.Model):\n"
        "    product = models.ForeignKey('catalog.Product', on_delete=models.CASCADE)\n"
    )
    (app / "migrations" / "0001_initial.py").write_text(
        "from django.db import migrations, models\n\n\nclass Migration(migrations.Migration):\n"
        f"    initial = True\n{dependencies}"
        "    operations = [migrations.CreateModel(name='Report', fields=[\n"
        "        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),\n"
        "        ('product', models.ForeignKey(on_delete=models.deletion.CASCADE, to='catalog.product')),\n"
        "    ])]\n"
    )
    settings = target.project / "shop" / "settings.py"
    settings.write_text(settings.read_text() + "\nINSTALLED_APPS.append('reports')\n")
    target.manage("migrate", "-v0")


def test_outside_app_depending_on_a_replaced_migration_keeps_working_and_retire_names_the_edit(target: Target) -> None:
    add_reports_app(target, "    dependencies = [('catalog', '0003_seed_categories')]\n")
    before = target.introspect()
    result = target.djreset("reset", "--env", "keep", "--yes")
    assert result.code == 0, result.text
    after = assert_kept(target, before)  # Django remaps reports' dependency while replaces is there
    assert ["reports", "0001_initial"] in after["history"]

    carried = f"0002_{tag(target.project)}_seed_categories"
    files, database = project_files(target), target.introspect()
    refused = target.djreset("retire", "--env", "keep", "--yes")
    assert refused.code == 1, refused.text
    assert (f"reports/migrations/0001_initial.py: reports.0001_initial names ('catalog', '0003_seed_categories') in dependencies, "
            f"which the reset replaced: change it to ('catalog', '{carried}')") in refused.err
    assert_unchanged(target, files, database)
    edited = target.project / "reports" / "migrations" / "0001_initial.py"
    edited.write_text(edited.read_text().replace("0003_seed_categories", carried))
    retired = target.djreset("retire", "--env", "keep", "--yes")
    assert retired.code == 0, retired.text
    target.manage("migrate", "--check")
    assert listed_history(target.introspect()) == new_rows(target.project)


def test_outside_app_running_before_a_removed_migration_is_refused(bare_shop: Path) -> None:
    target = Target("sqlite", bare_shop)  # migrated with the app in place: run_before holds
    add_reports_app(target, "    dependencies = [('catalog', '0001_initial')]\n    run_before = [('catalog', '0002_product_sku')]\n")
    files, database = project_files(target), target.introspect()
    result = target.djreset("reset", "--env", "keep", "--yes")
    assert result.code == 1, result.text
    assert "reports.0001_initial runs before catalog.0002_product_sku, which the reset replaces: add 'reports' to apps" in result.text
    assert_unchanged(target, files, database)


def test_outside_app_on_the_first_migration_of_a_listed_app_keeps_working(shop: Path) -> None:
    target = Target("sqlite", shop)
    add_reports_app(target, "    dependencies = [('catalog', '__first__')]\n")
    before = target.introspect()
    result = target.djreset("reset", "--env", "keep", "--yes")
    assert result.code == 0, result.text
    after = assert_kept(target, before)
    assert ["reports", "0001_initial"] in after["history"]


def test_a_listed_app_without_migrations_is_refused_with_the_fix(shop: Path) -> None:
    target = Target("sqlite", shop)
    app = shop / "notes"
    app.mkdir()
    (app / "__init__.py").write_text("")
    (app / "models.py").write_text("from django.db import models\n\n\nclass Note(models.Model):\n    text = models.TextField()\n")
    settings = shop / "shop" / "settings.py"
    settings.write_text(settings.read_text() + "\nINSTALLED_APPS.append('notes')\n")
    config = shop / "reset.yaml"
    config.write_text(config.read_text().replace("apps: [accounts, catalog, orders]", "apps: [accounts, catalog, orders, notes]"))
    target.manage("migrate", "--run-syncdb", "-v0")
    files, database = project_files(target), target.introspect()
    result = target.djreset("reset", "--env", "keep", "--yes")
    assert result.code == 1, result.text
    assert "notes has no migrations (its tables were made without them): remove 'notes' from apps" in result.out
    assert_unchanged(target, files, database)


def test_case1_never_writes_a_migration_into_an_unlisted_app(shop: Path) -> None:
    """A listed app's model points at a model of an unlisted app that has no migration yet."""
    target = Target("sqlite", shop)
    app = shop / "labels"
    (app / "migrations").mkdir(parents=True)
    (app / "__init__.py").write_text("")
    (app / "migrations" / "__init__.py").write_text("")
    (app / "models.py").write_text("from django.db import models\n\n\nclass Label(models.Model):\n    name = models.CharField(max_length=20)\n")
    settings = shop / "shop" / "settings.py"
    settings.write_text(settings.read_text() + "\nINSTALLED_APPS.append('labels')\n")
    models = shop / "catalog" / "models.py"
    models.write_text(models.read_text().replace(
        '    sku = models.CharField(max_length=32, blank=True, default="")',
        '    sku = models.CharField(max_length=32, blank=True, default="")\n    label = models.ForeignKey("labels.Label", null=True, on_delete=models.SET_NULL)',
    ))
    files, database = project_files(target), target.introspect()
    result = target.djreset("reset", "--env", "dev", "--yes")
    assert result.code == 1, result.text
    assert "the listed apps' models need a new migration in labels, which is not listed" in result.err
    assert "add 'labels' to apps" in result.err
    assert_unchanged(target, files, database)


def test_a_column_changed_by_hand_is_refused_before_any_change_with_a_diff(target: Target) -> None:
    change = {
        "sqlite": "ALTER TABLE catalog_product DROP COLUMN sku; ALTER TABLE catalog_product ADD COLUMN sku varchar(64) NOT NULL DEFAULT ''",
        "postgresql": "ALTER TABLE catalog_product ALTER COLUMN sku TYPE varchar(64)",
        "mysql": "ALTER TABLE catalog_product MODIFY sku varchar(64) NOT NULL",
    }[target.engine]
    target.sql(change)
    files, database = project_files(target), target.introspect()

    result = target.djreset("reset", "--env", "keep", "--yes")
    assert result.code == 1, result.text
    assert "] verify" in result.out and re.search(r"clean-files +skipped", result.out)
    drift = [line for line in result.out.splitlines() if "✗ table catalog_product: column sku" in line]
    assert len(drift) == 1, result.out
    assert "64" in drift[0] and "32" in drift[0]
    assert "verify: 1 difference(s); nothing was recorded" in result.err
    assert_unchanged(target, files, database)


def test_pending_model_change_is_refused(target: Target) -> None:
    models = target.project / "catalog" / "models.py"
    models.write_text(models.read_text().replace(
        '    sku = models.CharField(max_length=32, blank=True, default="")',
        '    sku = models.CharField(max_length=32, blank=True, default="")\n    weight = models.PositiveIntegerField(default=0)',
    ))
    files, database = project_files(target), target.introspect()
    result = target.djreset("reset", "--env", "keep", "--yes")
    assert result.code == 1, result.text
    assert "models have changes without a migration" in result.out
    assert "catalog: Add field weight to product" in result.out
    assert_unchanged(target, files, database)


def test_unapplied_migration_is_refused(target: Target) -> None:
    target.manage("migrate", "orders", "0004", "-v0")  # un-apply orders.0005 for real
    files, database = project_files(target), target.introspect()
    result = target.djreset("reset", "--env", "keep", "--yes")
    assert result.code == 1, result.text
    assert "orders.0005_order_status_index is not applied" in result.out
    assert_unchanged(target, files, database)


def _policy(target: Target, text: str) -> None:
    config = target.project / "reset.yaml"
    content = config.read_text()
    start = content.index("data_migrations:")
    end = content.index("environments:")
    config.write_text(content[:start] + text + content[end:])


def test_data_migration_inventory_refuses_until_decided(target: Target) -> None:
    _policy(target, "")
    files, database = project_files(target), target.introspect()
    result = target.djreset("reset", "--env", "keep", "--yes")
    assert result.code == 1, result.text
    assert "catalog/migrations/0003_seed_categories.py:27: catalog.0003_seed_categories operation 1: RunPython" in result.err
    assert "keep: [catalog.0003_seed_categories]" in result.err  # the snippet to paste
    assert_unchanged(target, files, database)
    # clean-files alone refuses too: the inventory runs before anything is deleted.
    alone = target.djreset("clean-files", "--env", "dev", "--yes")
    assert alone.code == 1 and "cannot be re-created by makemigrations" in alone.err
    assert_unchanged(target, files, database)


def test_kept_data_migration_is_recorded_not_rerun_and_a_fresh_database_gets_its_data(target: Target) -> None:
    before = target.introspect()
    result = target.djreset("reset", "--env", "keep", "--yes")
    assert result.code == 0, result.text
    assert_kept(target, before)  # the categories were not created twice
    name = tag(target.project)
    carried = (target.project / "catalog" / "migrations" / f"0002_{name}_seed_categories.py").read_text()
    assert "djreset_carried_from = 'catalog.0003_seed_categories'" in carried
    assert "replaces = [('catalog', '0003_seed_categories')]" in carried  # a deployed database never runs it again
    assert "def add_default_categories" in carried and f"('catalog', '0001_{name}')" in carried
    # A new environment built from the new files only (plain migrate): the data migration runs there.
    names = sorted(json.loads(row)[1] for row in target.fresh()["rows"]["catalog_category"])
    assert names == ["Books", "Games"]


def test_verify_after_the_reset_and_a_later_migration_replays_what_is_applied(shop: Path) -> None:
    """A column added after the reset (NOT NULL, default in Python only) comes after the carried
    seed on a fresh database: verify must not create today's tables under the seed."""
    target = Target("sqlite", shop)
    assert target.djreset("reset", "--env", "keep", "--yes").code == 0
    models = shop / "catalog" / "models.py"
    models.write_text(models.read_text().replace("    name = models.CharField(max_length=100)\n", "    name = models.CharField(max_length=100)\n    slug = models.TextField(default='x')\n", 1))
    assert target.manage("makemigrations", "catalog", "-v0").returncode == 0
    assert target.manage("migrate", "-v0").returncode == 0
    result = target.djreset("verify", "--env", "keep")
    assert result.code == 0, result.text
    assert "the migration files on disk" in result.out


def test_dropped_data_migration_is_not_carried(target: Target) -> None:
    _policy(target, "data_migrations: {drop: [catalog.0003_seed_categories]}\n")
    before = target.introspect()
    result = target.djreset("reset", "--env", "keep", "--yes")
    assert result.code == 0, result.text
    assert "drop: catalog/migrations/0003_seed_categories.py:27" in result.out
    assert migration_files(target.project, "catalog") == [f"0001_{tag(target.project)}.py", "__init__.py"]
    assert_kept(target, before, seeded=())
    assert target.fresh()["rows"]["catalog_category"] == []


def test_an_index_renamed_by_hand_is_a_warning_not_an_error(target: Target) -> None:
    rename = {
        "sqlite": "DROP INDEX orders_status_created; CREATE INDEX legacy_status_idx ON orders_order (status, created_at)",
        "postgresql": "ALTER INDEX orders_status_created RENAME TO legacy_status_idx",
        "mysql": "ALTER TABLE orders_order RENAME INDEX orders_status_created TO legacy_status_idx",
    }[target.engine]
    target.sql(rename)
    before = target.introspect()
    result = target.djreset("reset", "--env", "keep", "--yes")
    assert result.code == 0, result.text
    warnings = [line for line in result.out.splitlines() if "warning: table orders_order: index (status, created_at)" in line]
    assert warnings and "legacy_status_idx live, orders_status_created by the migrations" in warnings[0]
    assert_kept(target, before)


def test_every_database_alias_is_checked_and_rewritten(target: Target) -> None:
    """Two databases with the same apps (e.g. one per tenant): both histories move."""
    if target.server:
        target.second = target.server.new_name()
        target.server.create(target.second)
        block = "databases: {default: %s, second: %s}" % (target.block, target.server.yaml_block(target.second))
    else:
        settings = target.project / "shop" / "settings.py"
        settings.write_text(settings.read_text() + "\nDATABASES['second'] = {'ENGINE': 'django.db.backends.sqlite3', 'NAME': BASE_DIR / 'second.sqlite3'}\n")
        block = ""  # no database in reset.yaml: every alias of the settings
    try:
        target.manage("migrate", "--database", "second", "-v0")
        config = target.project / "reset.yaml"
        recipe = "steps: [check, verify, clean-files, makemigrations, record-new, verify]"
        config.write_text(config.read_text() + f"  both:\n    {block + chr(10) + '    ' if block else ''}{recipe}\n")
        result = target.djreset("reset", "--env", "both", "--yes")
        assert result.code == 0, result.text
        for alias in ("default", "second"):
            assert f"{alias}: record accounts.0001_{tag(target.project)}, catalog.0001_{tag(target.project)}" in result.out
            assert f"{alias}: the live schema matches the schema built from the migration files on disk" in result.out
        target.manage("migrate", "--check", "--database", "second")
        target.manage("migrate", "--check")
        target.manage("makemigrations", "--check", "--dry-run")
        assert_fresh_database_matches(target, target.introspect(), APPS, SEEDED["shop"])
    finally:
        if target.second:
            target.server.drop_matching(target.second)


SEES_ORDERS = '''\
from django.db import migrations


def note_orders(apps, schema_editor):
    # Uses another app's model: it must run after that app's migrations.
    apps.get_model("orders", "Order").objects.exists()
    apps.get_model("catalog", "Category").objects.create(name="Orders")


class Migration(migrations.Migration):
    dependencies = [{dependencies}]
    operations = [migrations.RunPython(note_orders, migrations.RunPython.noop)]
'''
AFTER_ORDERS = '''\
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("catalog", "0005_rename_price"), ("orders", "0005_order_status_index")]
    operations = []
'''


def _keep_catalog_migration(target: Target, name: str) -> None:
    target.manage("migrate", "catalog", "-v0")  # applied, as in the live project
    config = target.project / "reset.yaml"
    config.write_text(config.read_text().replace("keep: [catalog.0003_seed_categories]", f"keep: [catalog.0003_seed_categories, catalog.{name}]"))


def test_a_carried_migration_depends_on_what_its_origin_saw_so_a_fresh_database_builds(shop: Path) -> None:
    """catalog.0007 depends only on catalog.0006, which depends on orders: its
    carried copy must run after orders' new migrations on a fresh database (finding 4)."""
    target = Target("sqlite", shop)
    migrations = shop / "catalog" / "migrations"
    (migrations / "0006_after_orders.py").write_text(AFTER_ORDERS)
    (migrations / "0007_note_orders.py").write_text(SEES_ORDERS.format(dependencies='("catalog", "0006_after_orders")'))
    _keep_catalog_migration(target, "0007_note_orders")
    before = target.introspect()
    result = target.djreset("reset", "--env", "keep", "--yes")
    assert result.code == 0, result.text
    assert_kept(target, before)  # plain migrate builds a fresh database, the note included


def test_a_kept_migration_that_uses_a_model_its_place_does_not_have_is_refused_before_any_change(shop: Path) -> None:
    """Live, migrate gave it every applied app's models; on a fresh database its
    dependencies give it no orders app: check runs it with that state and refuses (finding 4)."""
    target = Target("sqlite", shop)
    (shop / "catalog" / "migrations" / "0006_note_orders.py").write_text(SEES_ORDERS.format(dependencies='("catalog", "0005_rename_price")'))
    _keep_catalog_migration(target, "0006_note_orders")
    files, database = project_files(target), target.introspect()
    result = target.djreset("reset", "--env", "keep", "--yes")
    assert result.code == 1, result.text
    assert "catalog.0006_note_orders" in result.text and "No installed app with label 'orders'" in result.text, result.text
    assert_unchanged(target, files, database)
