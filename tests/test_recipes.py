"""Case 1 and Case 2 end to end, plan, and recipes in another order (SQLite)."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from conftest import APPS, REPO, Target, clean_env, introspect, manage, migration_files, run_djreset, tree_snapshot
from test_keep import SEEDED, assert_fresh_database_matches, new_rows, old_names, tag

NEW_NAME = r"0001_reset_\d{8}\.py"


def reset_files(project: Path, record: Path | None = None) -> dict[str, list[str]]:
    name = tag(record or project)
    return {
        "accounts": [f"0001_{name}.py", "__init__.py"],
        # The kept data migration (reset.yaml: data_migrations.keep) follows the new initial one.
        "catalog": [f"0001_{name}.py", f"0002_{name}_seed_categories.py", "__init__.py"],
        "orders": [f"0001_{name}.py", "__init__.py"],
    }


def reset_history(project: Path) -> list[list[str]]:
    """The old rows stay (a migrate on a fresh database records them too: the new migrations replace them), beside the new."""
    return sorted(old_names() + new_rows(project))


def assert_one_initial_migration_each(project: Path, record: Path | None = None) -> None:
    """``record``: where reset.yaml (and so reset-history.json) is, when not in the project."""
    for app in APPS:
        assert migration_files(project, app) == reset_files(project, record)[app], app


def assert_django_agrees(project: Path) -> None:
    """makemigrations --check and migrate --check pass on the result."""
    manage(project, "makemigrations", "--check", "--dry-run")
    manage(project, "migrate", "--check")


def test_case1_dev_recipe_drops_and_rebuilds(target: Target) -> None:
    result = target.djreset("reset", "--env", "dev", "--yes")
    assert result.code == 0, result.text

    assert_one_initial_migration_each(target.project)
    target.manage("makemigrations", "--check", "--dry-run")
    target.manage("migrate", "--check")
    after = target.introspect()
    assert [row for row in after["history"] if row[0] in APPS] == reset_history(target.project)
    # The database was dropped: the seeded customers are gone, the tables are there.
    assert after["rows"]["accounts_user"] == []
    assert "orders_orderline" in after["schema"]
    # ...and the kept data migration ran on the new database: its categories are back.
    assert sorted(row.split(",")[1].strip(' "]') for row in after["rows"]["catalog_category"]) == ["Books", "Games"]
    for step in ("clean-files", "drop-db", "create-db", "makemigrations", "migrate"):
        assert f"] {step}" in result.out
    assert "summary" in result.out and "total" in result.out


@pytest.mark.parametrize("env", ["keep", "keep-classic"])
def test_case2_keep_recipe_keeps_schema_and_data(target: Target, env: str) -> None:
    before = target.introspect()
    assert before["rows"]["accounts_user"], "the example should be seeded"
    result = target.djreset("reset", "--env", env, "--yes")
    assert result.code == 0, result.text

    assert_one_initial_migration_each(target.project)
    target.manage("makemigrations", "--check", "--dry-run")
    target.manage("migrate", "--check")
    after = target.introspect()
    assert after["schema"] == before["schema"]
    assert after["rows"] == before["rows"]
    listed = [row for row in after["history"] if row[0] in APPS]
    assert listed == reset_history(target.project)
    others_before = [row for row in before["history"] if row[0] not in APPS]
    others_after = [row for row in after["history"] if row[0] not in APPS]
    assert others_after == others_before  # admin's rows survive the custom user model's reset
    assert_fresh_database_matches(target, after, APPS, SEEDED["shop"])
    if env == "keep-classic":  # the kept seed ran here before (as its origin): recorded, not run again
        assert "as applied on default (it ran here as catalog.0003_seed_categories)" in result.out, result.out


def test_plan_changes_nothing(target: Target) -> None:
    files, database = tree_snapshot(target.project), target.introspect()
    for env in ("dev", "keep", "keep-classic"):
        result = target.djreset("plan", "--env", env)
        assert result.code == 0, result.text
        assert "dry run: nothing was changed" in result.out
    assert tree_snapshot(target.project) == files
    assert target.introspect() == database


def test_plan_lists_files_statements_and_new_migrations(shop: Path) -> None:
    result = run_djreset("plan", "--env", "keep-classic", cwd=shop)
    assert result.code == 0, result.text
    assert "would delete catalog/migrations/0003_seed_categories.py" in result.out
    assert 'DELETE FROM "django_migrations"' in result.out
    assert "params=['accounts', 'catalog', 'orders']" in result.out
    assert re.search(rf"would write orders/migrations/{NEW_NAME}", result.out)
    assert re.search(r"would write catalog/migrations/0002_reset_\d{8}_seed_categories.py \(carried from catalog.0003_seed_categories", result.out)
    assert "would run migrate --fake-initial --database default" in result.out


def test_invoke_dry_flag_changes_nothing_for_a_single_step(shop: Path) -> None:
    before = tree_snapshot(shop)
    result = run_djreset("--dry", "drop-db", "--env", "dev", cwd=shop)
    assert result.code == 0, result.text
    assert f"would delete {shop / 'db.sqlite3'}" in result.out
    assert tree_snapshot(shop) == before


def test_reordered_recipe_runs_in_the_given_order(shop: Path) -> None:
    """drop-db first, then the files: the order in reset.yaml is the order run."""
    config = shop / "reset.yaml"
    config.write_text(
        config.read_text().replace(
            "steps: [clean-files, drop-db, create-db, makemigrations, migrate]",
            "steps: [drop-db, create-db, clean-files, makemigrations, migrate]",
        )
    )
    result = run_djreset("reset", "--env", "dev", "--yes", cwd=shop)
    assert result.code == 0, result.text
    order = [line.split("] ", 1)[1] for line in result.out.splitlines() if line.startswith("==> [")]
    assert order == ["drop-db", "create-db", "clean-files", "makemigrations", "migrate"]
    assert_one_initial_migration_each(shop)
    assert_django_agrees(shop)


def test_recipe_with_options_and_project_commands(shop: Path) -> None:
    config = shop / "reset.yaml"
    config.write_text(
        config.read_text()
        + """  seeded:
    extends: dev
    steps:
      - clean-files
      - drop-db: {if_exists: true}
      - create-db
      - makemigrations
      - migrate
      - manage: seed_demo
      - run: echo "after reset in $DJRESET_ENV" > after.txt
"""
    )
    result = run_djreset("reset", "--env", "seeded", "--yes", cwd=shop)
    assert result.code == 0, result.text
    assert (shop / "after.txt").read_text() == "after reset in seeded\n"
    rows = introspect(shop)["rows"]
    assert len(rows["accounts_user"]) == 2  # seed_demo ran in the new database


def test_destructive_steps_refuse_without_terminal_or_yes(shop: Path) -> None:
    before = tree_snapshot(shop)
    result = run_djreset("reset", "--env", "dev", cwd=shop)
    assert result.code == 1
    assert "stdin is not a terminal: pass --yes" in result.err
    assert tree_snapshot(shop) == before


def test_the_repository_reset_yaml_plans_the_example_and_protects_it(migrated_template: Path, tmp_path: Path) -> None:
    """The repo's own reset.yaml (run from its root) acts on examples/shop, and only when confirmed."""
    root = tmp_path / "repo"
    shutil.copytree(migrated_template, root / "examples" / "shop")
    shutil.copy(REPO / "reset.yaml", root / "reset.yaml")
    project = root / "examples" / "shop"
    before, database = tree_snapshot(root), introspect(project)

    planned = run_djreset("plan", "--env", "keep", cwd=root)
    assert planned.code == 0, planned.text
    assert re.search(rf"would write accounts/migrations/{NEW_NAME}", planned.out)
    refused = run_djreset("reset", "--env", "keep", "--yes", cwd=root)
    assert refused.code == 1, refused.text
    assert "'keep' is protected" in refused.err
    assert tree_snapshot(root) == before

    confirmed = run_djreset("reset", "--env", "keep", "--yes", cwd=root, env=clean_env(DJRESET_CONFIRM="keep"))
    assert confirmed.code == 0, confirmed.text
    assert_one_initial_migration_each(project, root)
    after = introspect(project)
    assert (after["schema"], after["rows"]) == (database["schema"], database["rows"])
