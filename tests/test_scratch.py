"""Scratch databases: never a live one, never left behind, and the only place a
migration's code can write while djreset builds one (plan, check, verify, measure).
"""
from __future__ import annotations

import json
import shutil
import stat
from contextlib import closing
from pathlib import Path

import pytest

from conftest import ENGINES, EXAMPLE, IGNORE, Target, _server_target

TOUCH = '''\
from django.db import migrations


def touch(apps, schema_editor):
    # What most projects' data migrations do: the default manager, no .using().
    apps.get_model("catalog", "Tag").objects.all().delete()
    apps.get_model("catalog", "Product").objects.update(sku="touched")
    apps.get_model("catalog", "Category").objects.create(name="Added by a migration")
    # A connection a helper module captured when the models were imported.
    from catalog.dbutil import LIVE

    with LIVE.cursor() as cursor:
        cursor.execute("UPDATE catalog_category SET name = 'leaked'")


class Migration(migrations.Migration):
    dependencies = [("catalog", "0005_rename_price")]
    operations = [migrations.RunPython(touch, migrations.RunPython.noop)]
'''


def live_state(target: Target) -> object:
    """SQLite: the database file's bytes; servers: every row and the history."""
    if target.server is None:
        return (target.project / "db.sqlite3").read_bytes()
    state = target.introspect()
    return state["rows"], state["history_rows"]


def test_plan_verify_and_measure_never_write_to_the_live_database(target: Target) -> None:
    """A kept RunPython that deletes, updates and creates rows through the default
    manager, or writes through a connection captured at import, runs only on
    scratch databases (issue 10, item 2; review finding 5)."""
    (target.project / "catalog" / "migrations" / "0006_touch.py").write_text(TOUCH)
    (target.project / "catalog" / "dbutil.py").write_text('from django.db import connections\n\nLIVE = connections["default"]\n')
    with (target.project / "catalog" / "models.py").open("a") as models:
        models.write("\nfrom catalog import dbutil  # noqa: E402,F401 - captures the connection at import\n")
    config = target.project / "reset.yaml"
    config.write_text(config.read_text().replace("keep: [catalog.0003_seed_categories]", "keep: [catalog.0003_seed_categories, catalog.0006_touch]"))
    target.manage("migrate", "catalog", "0006", "--fake", "-v0")  # applied long ago: the live rows are still there
    rows = target.introspect()["rows"]
    assert rows["catalog_product_tags"] and rows["catalog_tag"]
    before = live_state(target)

    for command in (("plan", "--env", "keep"), ("verify", "--env", "keep"), ("measure", "--env", "keep")):
        result = target.djreset(*command)
        assert result.code == 0, result.text
        assert live_state(target) == before, f"{command[0]} changed the live database"
    assert not list((target.project / ".djreset" / "scratch").glob("*.json"))


WARM_CONTENT_TYPES = """\
from django.db import migrations


def warm(apps, schema_editor):
    # The real model's manager: ContentType caches each id it reads, per alias.
    from django.contrib.contenttypes.models import ContentType

    from catalog.models import Product

    ContentType.objects.get_for_model(Product)


class Migration(migrations.Migration):
    dependencies = [("catalog", "0005_rename_price")]
    operations = [migrations.RunPython(warm, migrations.RunPython.noop)]
"""
PERMISSION = '[{"model": "auth.permission", "fields": {"name": "Can audit", "codename": "audit_product", "content_type": ["catalog", "product"]}}]'


def test_content_type_ids_read_on_a_scratch_database_never_serve_the_live_one(shop: Path) -> None:
    """A kept RunPython fills ContentType's cache on the scratch database; a later
    step's loaddata (a permission by natural key) gets the live id (finding 3)."""
    target = Target("sqlite", shop)
    (shop / "catalog" / "migrations" / "0006_warm.py").write_text(WARM_CONTENT_TYPES)
    (shop / "catalog" / "fixtures").mkdir()
    (shop / "catalog" / "fixtures" / "perm.json").write_text(PERMISSION)
    target.manage("migrate", "catalog", "-v0")
    config = shop / "reset.yaml"
    text = config.read_text().replace("keep: [catalog.0003_seed_categories]", "keep: [catalog.0003_seed_categories, catalog.0006_warm]")
    steps = "steps: [check, verify, clean-files, makemigrations, record-new, verify]"
    config.write_text(text.replace(steps, steps[:-1] + ', {manage: "loaddata perm.json"}]'))

    result = target.djreset("reset", "--env", "keep", "--yes")
    assert result.code == 0, result.text
    import sqlite3

    with closing(sqlite3.connect(shop / "db.sqlite3")) as db:
        live_id = db.execute("SELECT id FROM django_content_type WHERE app_label = 'catalog' AND model = 'product'").fetchone()[0]
        used = db.execute("SELECT content_type_id FROM auth_permission WHERE codename = 'audit_product'").fetchone()[0]
    assert used == live_id


def _long_target(engine: str, tmp_path: Path, pg_template: str | None) -> Target:
    from servers import Server

    server = Server.find(engine)
    limit = 63 if engine == "postgresql" else 64
    base = server.new_name()
    name = base + "_" + "n" * (limit - len(base) - 1)
    project = tmp_path / "shop"
    shutil.copytree(EXAMPLE, project, ignore=IGNORE)
    target = _server_target(project, server, name, "shop.settings")
    server.create(name, template=pg_template)
    if pg_template is None:
        target.manage("migrate", "-v0")
        target.manage("seed_demo")
    return target


@pytest.mark.parametrize("engine", ENGINES[1:])
def test_a_database_name_at_the_length_limit_survives_plan_verify_and_reset(engine: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """63 characters on PostgreSQL, 64 on MariaDB: the scratch name cuts the live name, never its tag."""
    template = request.getfixturevalue("pg_template") if engine == "postgresql" else None
    target = _long_target(engine, tmp_path, template)
    assert len(target.database) == (63 if engine == "postgresql" else 64)
    try:
        before = target.introspect()
        for command in (("plan", "--env", "keep"), ("verify", "--env", "keep"), ("reset", "--env", "keep", "--yes")):
            result = target.djreset(*command)
            assert result.code == 0, result.text
            assert target.server.exists(target.database), f"{command[0]} dropped the live database"
            assert target.introspect()["rows"] == before["rows"]
            assert _scratch_databases(target) == []
    finally:
        target.server.drop_matching(target.database)


def _scratch_databases(target: Target) -> list[str]:
    """Scratch databases made from this target's database (their names end with a cut of its name)."""
    pattern = "djrs\\_%\\_" + target.database[:12].replace("_", "\\_") + "%"
    if target.server.engine == "postgresql":
        return [row[0] for row in target.server.query("SELECT datname FROM pg_database WHERE datname LIKE %s", (pattern,))]
    return [row[0] for row in target.server.query("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE %s", (pattern,))]


def _scratch_exists(target: Target, name: str) -> bool:
    if target.server is None:
        return Path(name).parent.exists()
    return target.server.exists(name)


def test_a_scratch_database_left_by_a_killed_verify_is_removed_by_the_next_run(target: Target) -> None:
    killed = target.djreset("verify", "--env", "keep", env=target.env(DJRESET_FAULT="inside:verify"))
    assert killed.code == -9, killed.text
    claims = list((target.project / ".djreset" / "scratch").glob("*.json"))
    assert len(claims) == 1
    # Private, as everything under .djreset/ (it names databases).
    assert stat.S_IMODE(claims[0].parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(claims[0].stat().st_mode) == 0o600
    left = json.loads(claims[0].read_text())["name"]
    assert _scratch_exists(target, left)

    again = target.djreset("verify", "--env", "keep")
    assert again.code == 0, again.text
    assert f"removed scratch database {left}, left by a run that was killed" in again.out
    assert not _scratch_exists(target, left)
    assert not list((target.project / ".djreset" / "scratch").glob("*.json"))


def test_measure_works_on_a_project_that_was_never_reset(target: Target) -> None:
    """An old data migration that reads a column a later migration renames runs
    on the scratch database at its own point of the history, never on the live one."""
    seed = target.project / "catalog" / "migrations" / "0003_seed_categories.py"
    seed.write_text(seed.read_text().replace(
        "    for name in DEFAULT_CATEGORIES:\n",
        '    apps.get_model("catalog", "Product").objects.filter(price__gte=0).count()  # renamed to unit_price in 0005\n'
        "    for name in DEFAULT_CATEGORIES:\n",
    ))
    before = live_state(target)
    result = target.djreset("measure", "--env", "keep")
    assert result.code == 0, result.text
    assert "migrate an empty database" in result.out
    assert live_state(target) == before
