"""A reset deploys with plain ``manage.py migrate``: replacing migrations, status, retire, partial resets.

One developer resets (the reset environment); the new files ship to other
environments, copies migrated on the old files, where plain ``migrate``
records them; the code can roll back; ``djreset status`` says where every
database stands; ``retire`` ends it everywhere.  Every claim is checked as
the user would: ``migrate --check`` and ``makemigrations --check`` in a
subprocess, schema and rows through Django's introspection, and a fresh
database built with plain ``migrate`` from the new files.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import APPS, ENGINES, EXAMPLE, REPO, Target, _server_target, migration_files, prepared
from test_keep import SEEDED, assert_fresh_database_matches, assert_kept, listed_history, new_rows, project_files, tag, written

CYCLE, CYCLEFEW, INVENTORY, SQUASHED = (REPO / "tests" / "projects" / name for name in ("cycle", "cyclefew", "inventory", "squashed"))


def ship(source: Path, target: Target, apps: tuple[str, ...] = APPS) -> None:
    """The migration files (and reset-history.json, if any) of ``source`` arrive with the code."""
    for app in apps:
        shutil.rmtree(target.project / app / "migrations")
        shutil.copytree(source / app / "migrations", target.project / app / "migrations", ignore=shutil.ignore_patterns("__pycache__"))
    record = target.project / "reset-history.json"
    if (source / "reset-history.json").exists():
        shutil.copy(source / "reset-history.json", record)
    else:
        record.unlink(missing_ok=True)


def reset(target: Target, apps: tuple[str, ...] = APPS, seeded: tuple[str, ...] | None = None) -> dict:
    """The keep reset in the reset environment: data kept, the new migrations recorded beside the old rows."""
    before = target.introspect()
    result = target.djreset("reset", "--env", "keep", "--yes")
    assert result.code == 0, result.text
    after = assert_kept(target, before, apps, seeded)
    assert listed_history(after, apps) == sorted(listed_history(before, apps) + new_rows(target.project))
    return after


def assert_migrate_records_the_reset(deployed: Target, source: Path, apps: tuple[str, ...] = APPS, verify: bool = False) -> dict:
    """Fully migrated on the old files, the new files shipped: plain migrate changes no table and no row,
    records the new migrations (the old rows stay), and Django's checks pass."""
    before = deployed.introspect()
    ship(source, deployed, apps)
    if verify:  # before migrate: Django already counts the new migrations as applied, verify agrees
        checked = deployed.djreset("verify", "--env", "keep")
        assert checked.code == 0, checked.text
        assert "default: the live schema matches the schema built from the migration files on disk" in checked.out
    migrated = deployed.manage("migrate")
    assert "No migrations to apply." in migrated.stdout, migrated.stdout
    after = deployed.introspect()
    assert after["schema"] == before["schema"]
    assert after["rows"] == before["rows"]  # the carried seed did not run again
    assert listed_history(after, apps) == sorted(listed_history(before, apps) + new_rows(source))
    deployed.manage("migrate", "--check")
    deployed.manage("makemigrations", "--check", "--dry-run")
    return after


def assert_retires(target: Target, apps: tuple[str, ...] = APPS, env: str = "keep") -> None:
    """retire in one environment: only the new rows are left, and Django's checks pass."""
    before = target.introspect()
    result = target.djreset("retire", "--env", env, "--yes")
    assert result.code == 0, result.text
    after = target.introspect()
    assert (after["schema"], after["rows"]) == (before["schema"], before["rows"])
    on_disk = sorted([app, path.stem] for app in apps for path in (target.project / app / "migrations").glob("0*.py"))
    assert listed_history(after, apps) == on_disk  # the new migrations (and a partial reset's kept ones) only
    assert not any("replaces" in path.read_text() for app in apps for path in (target.project / app / "migrations").glob("0*.py"))
    target.manage("migrate", "--check")
    target.manage("makemigrations", "--check", "--dry-run")


def add_environment(target: Target, name: str, block: str) -> None:
    config = target.project / "reset.yaml"
    config.write_text(config.read_text() + f"  {name}:\n    database: {block}\n    steps: [check]\n")


def database_block(target: Target) -> str:
    if target.server:
        return target.server.yaml_block(target.database)
    return "{engine: sqlite, name: %s}" % json.dumps(str(target.project / "db.sqlite3"))


def status_rows(target: Target, code: int = 0) -> dict[str, str]:
    """``djreset status``'s table: each environment → its row."""
    result = target.djreset("status")
    assert result.code == code, result.text
    rows = {}
    for line in result.out.splitlines()[2:]:
        for env in re.split(r"\s{2,}", line.strip())[0].split(", "):
            rows[env] = line
    return rows


def test_a_reset_deploys_with_plain_migrate_rolls_back_and_retires_everywhere(target: Target, tmp_path: Path, request) -> None:
    with prepared(target.engine, EXAMPLE, "shop.settings", ("seed_demo",), tmp_path / "deployed", request) as deployed:
        install_djreset_app(deployed)  # the guard is there, and lets a fully migrated database through
        reset(target)
        assert_migrate_records_the_reset(deployed, target.project, verify=True)

        # The previous release comes back: its migrations are all still recorded.
        shipped = deployed.introspect()
        ship(EXAMPLE, deployed)
        deployed.manage("migrate", "--check")
        assert "No migrations to apply." in deployed.manage("migrate").stdout
        assert deployed.introspect() == shipped
        ship(target.project, deployed)

        # status sees both environments (and one it cannot reach), all ready to retire.
        add_environment(target, "deployed", database_block(deployed))
        config = (target.project / "reset.yaml").read_text()
        add_environment(target, "prod", "{engine: postgresql, name: shop, user: shop, password: \"${DJT_PROD_PASSWORD}\"}")
        rows = status_rows(target, code=1)  # prod is unknown: a deploy gate does not pass
        assert "new migrations recorded, old rows kept: ready to retire" in rows["keep"]
        assert "new migrations recorded, old rows kept: ready to retire" in rows["deployed"]
        assert "unreachable" in rows["prod"] and "DJT_PROD_PASSWORD" in rows["prod"]
        only = target.djreset("status", env=target.env(DJRESET_ENV="deployed"))
        assert only.code == 0 and "deployed" in only.out and "prod" not in only.out, only.text
        (target.project / "reset.yaml").write_text(config)  # retire must read every environment it lists

        # retire: once where the files change (they are committed), then in every other environment.
        assert_retires(target)
        ship(target.project, deployed)
        assert_retires(deployed)
        assert_fresh_database_matches(deployed, deployed.introspect(), APPS, SEEDED["shop"])
        assert "new migrations only: retired" in status_rows(target)["deployed"]


def developer_reset(target: Target, tmp_path: Path) -> Path:
    """A developer's copy of the project, with a database of its own, reset with the keep recipe."""
    developer = tmp_path / "developer"
    shutil.copytree(target.project, developer)
    dev = Target("sqlite", developer, settings=target.settings)
    if target.server:
        name = target.server.new_name()
        target.server.create(name)
        dev = _server_target(developer, target.server, name, target.settings)
        dev.block = target.block
        dev.use_block(target.server.yaml_block(name))
        dev.manage("migrate", "-v0")
    try:
        made = dev.djreset("reset", "--env", "keep", "--yes")
        assert made.code == 0, made.text
    finally:
        if dev.server:
            dev.server.drop_matching(dev.database)
    return developer


def install_djreset_app(target: Target) -> None:
    """The README's team workflow: "djreset" in INSTALLED_APPS (the deploy guard)."""
    settings = target.project / "shop" / "settings.py"
    settings.write_text(settings.read_text() + "\nif 'djreset' not in INSTALLED_APPS:\n    INSTALLED_APPS.append('djreset')\n")


def plain_migrate(target: Target) -> subprocess.CompletedProcess:
    settings = ["--settings=test_settings"] if target.server else []
    return subprocess.run([sys.executable, "manage.py", "migrate", *settings], cwd=target.project, env=target.env(),
                          capture_output=True, text=True, timeout=300)


def test_a_database_that_applied_only_part_of_the_old_history_is_not_safe(target: Target, tmp_path: Path) -> None:
    developer = developer_reset(target, tmp_path)
    target.manage("migrate", "catalog", "0003", "-v0")  # never got catalog.0004, .0005 (nor orders.0004, .0005)
    ship(developer, target)
    install_djreset_app(target)
    files, database = project_files(target), target.introspect()

    # Plain migrate stops before it changes anything (it runs database checks first), and says why.
    migrated = plain_migrate(target)
    assert migrated.returncode != 0, migrated.stdout + migrated.stderr
    assert ("(djreset.E001) catalog: only part of its old history is applied (catalog.0004_tags_and_slug, "
            "catalog.0005_rename_price never was)") in migrated.stderr
    assert "HINT: Deploy the release before the reset and run migrate there first" in migrated.stderr
    assert "Applying" not in migrated.stdout
    assert project_files(target) == files and target.introspect() == database
    assert "System check identified no issues" in target.manage("check").stdout  # no database checks here

    status = target.djreset("status", "--env", "keep")
    assert status.code == 1, status.text
    assert "NOT SAFE: only part of the old history" in status.out
    assert ("catalog: only part of its old history is applied (catalog.0004_tags_and_slug, catalog.0005_rename_price never was); "
            "deploy the release before the reset and run migrate there first") in status.out
    assert "orders.0004_one_line_per_product, orders.0005_order_status_index never was" in status.out
    document = json.loads(target.djreset("status", "--env", "keep", "--json").out)
    (found,) = document["status"]["databases"]
    assert (document["exit_code"], found["state"], found["safe"]) == (1, "partial", False)
    assert found["apps"]["catalog"] == {"state": "partial", "missing": ["0004_tags_and_slug", "0005_rename_price"]}
    for step in ("record-new", "rewrite-history", "check-applied"):
        refused = target.djreset(step, "--env", "keep", "--yes")
        assert refused.code == 1, refused.text
        assert "catalog: only part of its old history is applied" in refused.err, step
    assert project_files(target) == files and target.introspect() == database


@pytest.fixture(params=ENGINES[:2])
def cycle_pair(request: pytest.FixtureRequest, tmp_path: Path):
    with prepared(request.param, CYCLE, "cycle.settings", ("seed",), tmp_path / "reset") as one:
        with prepared(request.param, CYCLE, "cycle.settings", ("seed",), tmp_path / "deployed") as two:
            yield one, two


def test_an_fk_cycle_deploys_and_retires(cycle_pair: tuple[Target, Target]) -> None:
    """The extra migration the cycle makes replaces an old one too, so a deployed database counts it applied."""
    reset_env, deployed = cycle_pair
    reset(reset_env, ("left", "right"))
    assert len(written(reset_env.project)["left"]) == 2
    assert_migrate_records_the_reset(deployed, reset_env.project, ("left", "right"))
    assert_retires(reset_env, ("left", "right"))
    ship(reset_env.project, deployed, ("left", "right"))
    assert_retires(deployed, ("left", "right"))


@pytest.fixture(params=ENGINES[:2])
def cyclefew_pair(request: pytest.FixtureRequest, tmp_path: Path):
    with prepared(request.param, CYCLEFEW, "cyclefew.settings", ("seed",), tmp_path / "reset") as one:
        with prepared(request.param, CYCLEFEW, "cyclefew.settings", ("seed",), tmp_path / "deployed") as two:
            yield one, two


def test_a_cycle_making_more_new_migrations_than_old_ones_deploys(cyclefew_pair: tuple[Target, Target]) -> None:
    """left had one migration and the cycle splits it in two: both replace it (a deployed database counts
    both applied), and fans, not reset, which depended on it, runs after the last of them on a fresh database."""
    reset_env, deployed = cyclefew_pair
    apps = ("left", "right")
    reset(reset_env, apps)
    first, last = written(reset_env.project)["left"]
    for name in (first, last):
        assert "replaces = [('left', '0001_initial')]" in (reset_env.project / "left" / "migrations" / f"{name}.py").read_text()
    assert "run_before = [('fans', '0001_initial')]" in (reset_env.project / "left" / "migrations" / f"{last}.py").read_text()
    assert_migrate_records_the_reset(deployed, reset_env.project, apps)
    refused = reset_env.djreset("retire", "--env", "keep", "--yes")
    assert refused.code == 1, refused.text
    assert f"fans.0001_initial names ('left', '0001_initial') in dependencies, which the reset replaced: change it to ('left', '{last}')" in refused.err
    for target in (reset_env, deployed):
        edited = target.project / "fans" / "migrations" / "0001_initial.py"
        edited.write_text(edited.read_text().replace('("left", "0001_initial")', f'("left", "{last}")'))
    assert_retires(reset_env, apps)
    ship(reset_env.project, deployed, apps)
    assert_retires(deployed, apps)
    assert_fresh_database_matches(deployed, deployed.introspect(), apps, ())


@pytest.fixture(params=ENGINES[:2])
def inventory_pair(request: pytest.FixtureRequest, tmp_path: Path):
    with prepared(request.param, INVENTORY, "inventory.settings", ("seed",), tmp_path / "reset") as one:
        with prepared(request.param, INVENTORY, "inventory.settings", ("seed",), tmp_path / "deployed") as two:
            yield one, two


def test_kept_data_migrations_and_an_unlisted_app_deploy_and_retire(inventory_pair: tuple[Target, Target]) -> None:
    """Carried RunPython and RunSQL replace their origins (never run again); reviews, not reset, depends on
    library.0001_initial: Django remaps it while replaces is there, and retire names the edit first."""
    reset_env, deployed = inventory_pair
    reset(reset_env, ("library",))
    assert_migrate_records_the_reset(deployed, reset_env.project, ("library",))

    first = written(reset_env.project)["library"][0]
    refused = reset_env.djreset("retire", "--env", "keep", "--yes")
    assert refused.code == 1, refused.text
    assert (f"reviews.0001_initial names ('library', '0001_initial') in dependencies, which the reset replaced: "
            f"change it to ('library', '{first}')") in refused.err
    for project in (reset_env.project, deployed.project):  # the edit ships with the code
        edited = project / "reviews" / "migrations" / "0001_initial.py"
        edited.write_text(edited.read_text().replace('("library", "0001_initial")', f'("library", "{first}")'))
    assert_retires(reset_env, ("library",))
    ship(reset_env.project, deployed, ("library",))
    assert_retires(deployed, ("library",))
    assert_fresh_database_matches(deployed, deployed.introspect(), ("library",), SEEDED["inventory"])


PARTIAL = "keep_recent: 2\ncutoff: {accounts: 0003_address}\n"


@pytest.mark.parametrize("engine", ENGINES[:2])
def test_a_partial_reset_keeps_the_recent_migrations_in_flight(engine: str, tmp_path: Path, request) -> None:
    """keep_recent: 2 (accounts cut at its 0003): the new initial migrations are the models at the cutoff,
    the kept ones follow them; a copy that has not applied orders.0005 yet gets it from plain migrate."""
    with prepared(engine, EXAMPLE, "shop.settings", ("seed_demo",), tmp_path / "reset", request) as reset_env:
        with prepared(engine, EXAMPLE, "shop.settings", ("seed_demo",), tmp_path / "deployed", request) as deployed:
            config = reset_env.project / "reset.yaml"
            config.write_text(config.read_text().replace("default_env: dev\n", "default_env: dev\n" + PARTIAL))
            after = reset(reset_env)
            name = tag(reset_env.project)
            assert migration_files(reset_env.project, "catalog") == [
                f"0001_{name}.py", f"0002_{name}_seed_categories.py", "0004_tags_and_slug.py", "0005_rename_price.py", "__init__.py"
            ]
            assert migration_files(reset_env.project, "accounts") == [f"0001_{name}.py", "0004_user_loyalty_points.py", "__init__.py"]
            kept = (reset_env.project / "catalog" / "migrations" / "0004_tags_and_slug.py").read_text()
            assert f"('catalog', '0002_{name}_seed_categories')" in kept  # re-pointed: one leaf per app
            initial = (reset_env.project / "catalog" / "migrations" / f"0001_{name}.py").read_text()
            assert "replaces = [('catalog', '0001_initial'), ('catalog', '0002_product_sku')]" in initial
            assert "'slug'" not in initial  # the models at the cutoff: slug comes with the kept 0004

            deployed.manage("migrate", "orders", "0004", "-v0")  # orders.0005 is still in flight here,
            deployed.manage("migrate", "catalog", "0002", "-v0")  # and catalog's seed (carried) and later ones
            ship(reset_env.project, deployed)
            migrated = deployed.manage("migrate")  # the deploy guard (the djreset app) lets it run
            assert "Applying orders.0005_order_status_index... OK" in migrated.stdout, migrated.stdout
            assert f"Applying catalog.0002_{name}_seed_categories... OK" in migrated.stdout, migrated.stdout
            assert deployed.introspect()["rows"]["catalog_category"] == after["rows"]["catalog_category"]
            assert deployed.introspect()["schema"] == after["schema"]
            deployed.manage("migrate", "--check")
            deployed.manage("makemigrations", "--check", "--dry-run")
            assert_retires(reset_env)


def test_a_partial_reset_runs_its_kept_seed_before_the_kept_migrations_that_change_its_model(shop: Path) -> None:
    """The seed (carried) writes categories without the column a kept later migration adds (NOT NULL,
    its default in Python only): check and verify migrate the graph in order, as a fresh database does,
    instead of creating today's tables under the seed."""
    target = Target("sqlite", shop)
    (shop / "catalog" / "migrations" / "0006_category_code.py").write_text(
        "from django.db import migrations, models\n\n\nclass Migration(migrations.Migration):\n"
        "    dependencies = [('catalog', '0005_rename_price')]\n"
        "    operations = [migrations.AddField('category', 'code', models.CharField(max_length=8, default='x'))]\n"
    )
    models = shop / "catalog" / "models.py"
    models.write_text(models.read_text().replace("class Category(models.Model):\n    name = models.CharField(max_length=100)\n",
                                                 "class Category(models.Model):\n    name = models.CharField(max_length=100)\n    code = models.CharField(max_length=8, default='x')\n", 1))
    assert target.manage("migrate", "-v0").returncode == 0
    config = shop / "reset.yaml"
    config.write_text(config.read_text().replace("default_env: dev\n", "default_env: dev\nkeep_recent: 2\n"))
    planned = target.djreset("plan", "--env", "keep")
    assert planned.code == 0, planned.text
    assert "migrated in order" in planned.out
    reset(target)
    assert "0006_category_code.py" in migration_files(shop, "catalog")


def test_two_resets_in_one_day_get_names_no_old_migration_had(shop: Path) -> None:
    target = Target("sqlite", shop)
    reset(target)
    again = target.djreset("reset", "--env", "keep", "--yes")
    assert again.code == 1, again.text
    assert "still replaces 4 migration(s) of an earlier reset, not retired: run `djreset retire`" in again.err
    assert_retires(target)
    first = tag(shop)
    before = target.introspect()
    assert target.djreset("reset", "--env", "keep", "--yes").code == 0
    assert tag(shop) == f"{first}_2"
    assert migration_files(shop, "accounts") == [f"0001_{first}_2.py", "__init__.py"]
    assert_kept(target, before)


def test_a_migration_made_after_the_reset_is_applied_by_migrate_for_real(shop: Path, tmp_path: Path) -> None:
    deployed_dir = tmp_path / "deployed"
    shutil.copytree(shop, deployed_dir)
    target, deployed = Target("sqlite", shop), Target("sqlite", deployed_dir)
    reset(target)
    models = shop / "catalog" / "models.py"
    models.write_text(models.read_text().replace(
        '    sku = models.CharField(max_length=32, blank=True, default="")',
        '    sku = models.CharField(max_length=32, blank=True, default="")\n    weight = models.PositiveIntegerField(default=0)',
    ))
    target.manage("makemigrations", "catalog", "--name", "product_weight", "-v0")
    shutil.copy(models, deployed_dir / "catalog" / "models.py")
    ship(shop, deployed)
    migrated = deployed.manage("migrate")
    assert "Applying catalog.0003_product_weight... OK" in migrated.stdout
    after = deployed.introspect()
    assert any(column["name"] == "weight" for column in after["schema"]["catalog_product"]["columns"])
    deployed.manage("migrate", "--check")


def test_record_new_never_says_consistent_over_two_leaf_nodes(shop: Path, tmp_path: Path) -> None:
    developer = developer_reset(Target("sqlite", shop), tmp_path)
    target = Target("sqlite", shop)
    ship(developer, target)
    (shop / "catalog" / "migrations" / "0002_stray.py").write_text(
        f"from django.db import migrations\n\n\nclass Migration(migrations.Migration):\n    dependencies = [('catalog', '0001_{tag(developer)}')]\n"
    )
    files, database = project_files(target), target.introspect()
    result = target.djreset("record-new", "--env", "keep", "--yes")
    assert result.code == 1, result.text
    assert f"multiple leaf nodes in the migration graph: (0002_{tag(developer)}_seed_categories, 0002_stray in catalog)" in result.text
    assert "consistent" not in result.out and "migrate --check passes" not in result.out
    assert project_files(target) == files and target.introspect() == database


@pytest.mark.parametrize("engine", ("postgresql", "mysql"))
def test_two_rewrite_history_runs_on_one_database_change_it_once(engine: str, tmp_path: Path, request) -> None:
    """Two machines run the immediate swap against one database at the same moment: the
    database's own lock lets one in; the other, under the lock, finds it done."""
    with prepared(engine, EXAMPLE, "shop.settings", ("seed_demo",), tmp_path / "one", request) as one:
        ship(developer_reset(one, tmp_path), one)
        other = Target(engine, tmp_path / "two" / "shop", one.server, one.database, one.block)
        shutil.copytree(one.project, other.project)
        mark = tmp_path / "inside"
        first = subprocess.Popen(
            [sys.executable, "-m", "djreset", "rewrite-history", "--env", "keep", "--yes"], cwd=one.project, text=True,
            env=one.env(DJRESET_FAULT="pause:inside:rewrite-history", DJRESET_FAULT_MARK=str(mark), DJRESET_FAULT_SECONDS="4"),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 120
        while not mark.exists() and first.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert mark.exists(), first.communicate()
        second = other.djreset("rewrite-history", "--env", "keep", "--yes")
        out, err = first.communicate(timeout=300)
        assert first.returncode == 0, out + err
        assert second.code == 0, second.text
        assert "default: consistent; migrate --check passes" in out
        assert "another run changed it first; nothing to do" in second.out
        history = one.introspect()["history"]
        assert len(history) == len({tuple(row) for row in history}), "duplicate rows"
        assert listed_history(one.introspect()) == new_rows(one.project)
        for project in (one, other):
            project.manage("migrate", "--check")


def test_status_without_a_reset_says_so(shop: Path) -> None:
    result = Target("sqlite", shop).djreset("status")
    assert result.code == 0, result.text
    assert "no reset to deploy: the migrations of accounts, catalog, orders replace nothing" in result.out


def test_retire_waits_for_every_environment_and_status_tells_the_truth_after_it(shop: Path, tmp_path: Path) -> None:
    """staging (listed in reset.yaml, reachable) is still on the old history: retire in keep refuses, naming
    it; an environment it cannot read blocks it too.  Once the files are retired, a database on the old
    history is not safe for plain migrate (status exits 1 and names the deploy recipe, which fixes it)."""
    target = Target("sqlite", shop)
    staging = tmp_path / "staging.sqlite3"
    shutil.copy(shop / "db.sqlite3", staging)  # fully migrated on the old files, not deployed yet
    reset(target)
    config = (shop / "reset.yaml").read_text()
    add_environment(target, "staging", "{engine: sqlite, name: %s}" % json.dumps(str(staging)))
    with_staging = (shop / "reset.yaml").read_text()
    add_environment(target, "prod", "{engine: postgresql, name: shop, user: shop, password: \"${DJT_PROD_PASSWORD}\"}")
    files, database = project_files(target), target.introspect()
    refused = target.djreset("retire", "--env", "keep", "--yes")
    assert refused.code == 1, refused.text
    assert ("staging (default): catalog: old history applied: it has not recorded the new migrations "
            "(deploy the reset there: plain `manage.py migrate`)") in refused.err
    assert "prod (?): cannot be read (" in refused.err and "DJT_PROD_PASSWORD" in refused.err
    assert project_files(target) == files and target.introspect() == database

    document = json.loads(target.djreset("status", "--json").out)  # prod unknown: not a pass
    assert document["exit_code"] == 1 and "(details above)" not in document["error"], document["error"]
    assert "1 database(s) could not be read, so nothing is known of them (prod (?);" in document["error"]
    assert document["status"]["retire"]["ready"] is False

    (shop / "reset.yaml").write_text(config)  # staging forgotten in reset.yaml: retire cannot know of it
    assert_retires(target)
    (shop / "reset.yaml").write_text(with_staging)
    status = target.djreset("status")
    assert status.code == 1, status.text
    assert "NOT SAFE: old history applied, files retired (run the deploy recipe)" in status_rows(target, code=1)["staging"]
    assert ("staging (default): catalog: old history applied, but the migration files no longer replace it (retired), so plain "
            "`manage.py migrate` would fail here; run the deploy recipe first: check-applied, backup, rewrite-history, verify") in status.out
    assert status.err.strip().endswith("status: 1 database(s) not safe to migrate (staging (default))")
    fixed = target.djreset("rewrite-history", "--env", "staging", "--yes")  # the deploy recipe's swap
    assert fixed.code == 0, fixed.text
    assert "new migrations only: retired" in status_rows(target)["staging"]


def test_status_and_rewrite_history_see_another_apps_dependency_on_a_replaced_migration(tmp_path: Path) -> None:
    """reviews (not reset) depends on library.0001_initial: the immediate swap can never pass, so it is
    refused before anything changes; after a record-new reset, status says what retire will need."""
    with prepared("sqlite", INVENTORY, "inventory.settings", ("seed",), tmp_path) as target:
        config = target.project / "reset.yaml"
        config.write_text(config.read_text() + "  keep-now:\n    extends: keep\n"
                          "    steps: [check, verify, clean-files, makemigrations, rewrite-history, verify]\n")
        files, database = project_files(target), target.introspect()
        refused = target.djreset("reset", "--env", "keep-now", "--yes")
        assert refused.code == 1, refused.text
        assert "reviews.0001_initial names library.0001_initial, which the reset replaces" in refused.err
        assert "use record-new instead (the team workflow)" in refused.err
        assert project_files(target) == files and target.introspect() == database
        assert not (target.project / ".djreset" / "backups").exists()

        reset(target, ("library",))
        status = target.djreset("status")
        assert status.code == 0, status.text
        assert "new migrations recorded, old rows kept: retire needs the edits below first" in status.out
        assert "retire would refuse until:" in status.out
        assert "reviews.0001_initial names ('library', '0001_initial') in dependencies, which the reset replaced" in status.out


def test_rewrite_history_leaves_only_the_new_rows_squashes_included(tmp_path: Path) -> None:
    """The immediate swap retires at once: orders' squash had a row of its own (migrate records it), which no
    new migration replaces; it goes too, as retire would prune it, and status says retired."""
    with prepared("sqlite", SQUASHED, "squashed.settings", ("seed",), tmp_path) as target:
        config = target.project / "reset.yaml"
        config.write_text(config.read_text().replace("apps: [catalog, orders]", "apps: [orders]").replace(
            "environments:\n", "environments:\n  keep-now:\n    extends: keep\n"
            "    steps: [check, verify, clean-files, makemigrations, rewrite-history, verify]\n"))
        assert ["orders", "0001_squashed_0002_order_note"] in target.introspect()["history"]
        result = target.djreset("reset", "--env", "keep-now", "--yes")
        assert result.code == 0, result.text
        on_disk = sorted(["orders", path.stem] for path in (target.project / "orders" / "migrations").glob("0*.py"))
        assert listed_history(target.introspect(), ("orders",)) == on_disk
        status = target.djreset("status")
        assert status.code == 0 and "retired" in status.out and "ready to retire" not in status.out, status.text


def test_reset_history_records_what_a_squash_replaced(tmp_path: Path) -> None:
    """catalog's squash replaced 0001_initial and 0002_item_price (their files long gone): the reset replaces them too."""
    with prepared("sqlite", SQUASHED, "squashed.settings", ("seed",), tmp_path) as target:
        assert target.djreset("reset", "--env", "keep", "--yes").code == 0
        record = json.loads((target.project / "reset-history.json").read_text())
        assert record["apps"]["catalog"]["replaced"] == ["0001_initial", "0001_squashed_0002_item_price", "0002_item_price", "0003_item_code"]


def test_retire_reads_an_environment_without_database_through_the_settings_own_databases(shop: Path) -> None:
    """An environment without `database` uses the Django settings' databases; a run of another
    environment replaced them in its process, yet retire there still reads them (as status does)."""
    target = Target("sqlite", shop)
    shutil.copy(shop / "db.sqlite3", shop / "keep.sqlite3")
    config = shop / "reset.yaml"
    keep = "  keep:                       # Case 2"
    text = config.read_text()
    at = text.index(keep)
    text = text[:at] + text[at:].replace("name: db.sqlite3}", "name: keep.sqlite3}", 1)
    config.write_text(text + "  from-settings:\n    steps: [retire]\n")
    assert target.djreset("reset", "--env", "keep", "--yes").code == 0
    files = project_files(target)
    refused = target.djreset("retire", "--env", "keep", "--yes")
    assert refused.code == 1, refused.text
    assert "from-settings (default): accounts: old history applied: it has not recorded the new migrations" in refused.err
    assert project_files(target) == files
    status = target.djreset("status")
    assert "from-settings (default): accounts: old history applied: it has not recorded the new migrations" in status.out
