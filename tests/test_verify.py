"""verify sees what the schema means, not only its columns (issue 14).

The drift fixture carries CHECK expressions, partial, deferrable and functional
unique constraints, partial, opclass and expression indexes, a generated
column, a table comment, a column collation, a JSON column and (MariaDB) a
prefix index made by a kept migration.  Each test changes it by hand in SQL,
as a DBA or an old hotfix would, and runs the real CLI.
"""
from __future__ import annotations

import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

from conftest import ENGINES, IGNORE, REPO, Target, _server_target, run_djreset

DRIFT = REPO / "tests" / "projects" / "drift"
ITEM = "stock_item"


@contextmanager
def drift_project(engine: str, tmp_path: Path) -> Iterator[Target]:
    """The drift fixture, migrated and seeded.  On MariaDB the database's
    default collation is utf8mb4_bin, which the scratch database must copy."""
    project = tmp_path / "drift"
    shutil.copytree(DRIFT, project, ignore=IGNORE)
    if engine == "sqlite":
        target = Target("sqlite", project, settings="drift.settings")
    else:
        from servers import Server

        server = Server.find(engine)
        name = server.new_name()
        server.create(name)
        if engine == "mysql":
            server.query(f"ALTER DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
        target = _server_target(project, server, name, "drift.settings")
    try:
        target.manage("migrate", "-v0")
        target.manage("seed")
        yield target
    finally:
        if target.server:
            target.server.drop_matching(target.database)


@pytest.fixture(params=ENGINES)
def drift(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Target]:
    with drift_project(request.param, tmp_path) as target:
        yield target


def errors(result) -> list[str]:
    return [line.strip() for line in result.out.splitlines() if line.strip().startswith("✗")]


def test_expression_indexes_and_functional_constraints_verify_clean_through_a_keep_reset(drift: Target) -> None:
    before = drift.introspect()
    result = drift.djreset("reset", "--env", "keep", "--yes")
    assert result.code == 0, result.text
    assert result.out.count("the live schema matches") == 2
    after = drift.introspect()
    assert after["schema"] == before["schema"] and after["rows"] == before["rows"]
    drift.manage("migrate", "--check")
    drift.manage("makemigrations", "--check", "--dry-run")


def _foreign_key(target: Target) -> str:
    if target.engine == "postgresql":
        rows = target.server.query("SELECT conname FROM pg_constraint WHERE conrelid = 'stock_item'::regclass AND contype = 'f'", database=target.database)
    else:
        rows = target.server.query(
            "SELECT CONSTRAINT_NAME FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = %s AND TABLE_NAME = 'stock_item'",
            (target.database,),
        )
    return rows[0][0]


# (the SQL a person runs, a phrase the error line about it must contain)
SQLITE_DRIFTS = [
    ("UPDATE sqlite_master SET sql = replace(sql, '\"price\" >= 0', '\"price\" >= -1') WHERE name = 'stock_item'", "check (price >= -1) exists only in the live database"),
    ("UPDATE sqlite_master SET sql = replace(sql, '(\"qty\" * 2)', '(\"qty\" * 3)') WHERE name = 'stock_item'", "column double is integer generated always as((qty * 3)) stored live"),
    ("UPDATE sqlite_master SET sql = replace(sql, ' DEFERRABLE INITIALLY DEFERRED', '') WHERE name = 'stock_item'", "column supplier_id is bigint null references stock_supplier(id) live"),
    ("DROP INDEX uniq_active_email; CREATE UNIQUE INDEX uniq_active_email ON stock_item (email) WHERE NOT active", "unique index (email) where not active exists only in the live database"),
    ("DROP INDEX price_partial; CREATE INDEX price_partial ON stock_item (price)", "index (price) where price > 100 missing in the live database"),
    ("DROP INDEX lower_name_idx; CREATE INDEX lower_name_idx ON stock_item ((UPPER(name)))", "index ((upper(name))) exists only in the live database"),
]
POSTGRESQL_DRIFTS = [
    ("ALTER TABLE stock_item DROP CONSTRAINT price_pos; ALTER TABLE stock_item ADD CONSTRAINT price_pos CHECK (price >= -1)", "check (price >= '-1'::integer) exists only in the live database"),
    ("DROP INDEX uniq_active_email; CREATE UNIQUE INDEX uniq_active_email ON stock_item (email) WHERE active = false", "unique index (email) WHERE (active = false) exists only in the live database"),
    ("ALTER TABLE stock_item DROP CONSTRAINT uniq_name_deferred; ALTER TABLE stock_item ADD CONSTRAINT uniq_name_deferred UNIQUE (name)", "unique (name) DEFERRABLE INITIALLY DEFERRED missing in the live database"),
    ("DROP INDEX price_partial; CREATE INDEX price_partial ON stock_item (price)", "index (price) WHERE (price > 100) missing in the live database"),
    ("DROP INDEX email_pattern; CREATE INDEX email_pattern ON stock_item (email text_pattern_ops)", "index (email text_pattern_ops) exists only in the live database"),
    ("ALTER TABLE stock_item DROP COLUMN double; ALTER TABLE stock_item ADD COLUMN double integer GENERATED ALWAYS AS (qty * 3) STORED", "column double: generated is GENERATED ALWAYS AS ((qty * 3)) STORED live"),
    ("COMMENT ON TABLE stock_item IS 'changed'", "table stock_item: comment is changed live, items table by the migrations"),
    ("ALTER TABLE stock_item DROP CONSTRAINT {fk}; ALTER TABLE stock_item ADD CONSTRAINT {fk} FOREIGN KEY (supplier_id) REFERENCES stock_supplier (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED",
     "foreign key (supplier_id) REFERENCES stock_supplier(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED exists only in the live database"),
]
MYSQL_DRIFTS = [
    ("ALTER TABLE stock_item DROP CONSTRAINT price_pos, ADD CONSTRAINT price_pos CHECK (price >= -1)", "check (price >= -1) exists only in the live database"),
    ("ALTER TABLE stock_item MODIFY `double` int GENERATED ALWAYS AS (qty * 3) STORED", "column double is int(11) generated always as(qty * 3) stored live"),
    ("DROP INDEX item_body_prefix ON stock_item; CREATE INDEX item_body_prefix ON stock_item (body(5))", "index (body(5)) exists only in the live database"),
    ("ALTER TABLE stock_item COMMENT = 'changed'", "table stock_item: comment is changed live, items table by the migrations"),
    ("ALTER TABLE stock_note ENGINE = MyISAM", "table stock_note: options is ENGINE=MyISAM"),
    ("ALTER TABLE stock_item DROP FOREIGN KEY {fk}; ALTER TABLE stock_item ADD CONSTRAINT {fk} FOREIGN KEY (supplier_id) REFERENCES stock_supplier (id) ON DELETE CASCADE",
     "foreign key (supplier_id) references stock_supplier(id) on delete cascade exists only in the live database"),
]
DRIFTS = {"sqlite": SQLITE_DRIFTS, "postgresql": POSTGRESQL_DRIFTS, "mysql": MYSQL_DRIFTS}


def test_each_hand_made_drift_is_an_error_naming_the_table_and_the_difference(drift: Target) -> None:
    fk = "" if drift.engine == "sqlite" else _foreign_key(drift)
    for statement, _ in DRIFTS[drift.engine]:
        if drift.engine == "sqlite" and statement.startswith("UPDATE sqlite_master"):
            statement = f"PRAGMA writable_schema = ON; {statement}; PRAGMA writable_schema = OFF"
        parts = [statement] if drift.engine == "sqlite" else statement.format(fk=fk).split("; ")
        for part in parts:
            drift.sql(part)
    result = drift.djreset("verify", "--env", "keep")
    assert result.code == 1, result.text
    found = errors(result)
    for _, phrase in DRIFTS[drift.engine]:
        assert any(phrase in line for line in found), f"no error with {phrase!r} in:\n" + "\n".join(found)
    assert all(line.startswith("✗ table stock_") for line in found), found
    assert "Traceback" not in result.text


def _accept(target: Target, entries: str) -> None:
    config = target.project / "reset.yaml"
    config.write_text(config.read_text() + f"verify:\n  accept: [{entries}]\n")


def test_an_accepted_difference_passes_and_is_reported_as_accepted(drift: Target) -> None:
    """A DBA's extra index everywhere; on PostgreSQL also a serial id from before Django 4.1."""
    drift.sql("CREATE INDEX dba_qty ON stock_item (qty)")
    accept = "'stock_item.dba_qty extra'"
    if drift.engine == "postgresql":
        for statement in (
            "ALTER TABLE stock_note ALTER COLUMN id DROP IDENTITY",
            "CREATE SEQUENCE stock_note_id_seq OWNED BY stock_note.id",
            "ALTER TABLE stock_note ALTER COLUMN id SET DEFAULT nextval('stock_note_id_seq')",
        ):
            drift.sql(statement)
        accept += ", '*.id identity'"
    refused = drift.djreset("verify", "--env", "keep")
    assert refused.code == 1, refused.text
    assert "✗ table stock_item: index (qty) exists only in the live database" in refused.out
    if drift.engine == "postgresql":
        assert "✗ table stock_note: column id: identity is serial (a sequence default) live, GENERATED BY DEFAULT AS IDENTITY by the migrations" in refused.out

    _accept(drift, accept)
    result = drift.djreset("verify", "--env", "keep")
    assert result.code == 0, result.text
    assert "accepted ('stock_item.dba_qty extra' in reset.yaml): table stock_item: index (qty) exists only in the live database" in result.out
    accepted = 2 if drift.engine == "postgresql" else 1
    assert f"the live schema matches the schema built from the migrations the reset will write (the models they create, plus the kept data migrations) (with {accepted} accepted difference(s))" in result.out


BROKEN = '''\
from django.db import migrations


def seed(apps, schema_editor):
    apps.get_model("stock", "Note").objects.create(text="x", legacy="a field removed long ago")


class Migration(migrations.Migration):
    dependencies = [("stock", "0003_body_prefix")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
'''


def test_a_kept_data_migration_that_fails_on_the_scratch_database_is_one_line(drift: Target) -> None:
    (drift.project / "stock" / "migrations" / "0004_broken_seed.py").write_text(BROKEN)
    config = drift.project / "reset.yaml"
    config.write_text(config.read_text().replace("keep: [stock.0003_body_prefix]", "keep: [stock.0003_body_prefix, stock.0004_broken_seed]"))
    drift.manage("migrate", "stock", "--fake", "-v0")
    result = drift.djreset("verify", "--env", "keep")
    assert result.code == 1, result.text
    assert result.err.strip().splitlines() == [
        "djreset: the kept data migration stock.0004_broken_seed fails on a scratch database: "
        "TypeError: Note() got unexpected keyword arguments: 'legacy'"
    ]


def test_verify_accept_entries_are_checked_when_reset_yaml_loads(tmp_path: Path) -> None:
    project = tmp_path / "drift"
    shutil.copytree(DRIFT, project, ignore=IGNORE)
    target = Target("sqlite", project, settings="drift.settings")
    _accept(target, "'stock_item.id identiti'")
    result = target.djreset("verify", "--env", "keep")
    assert result.code == 2, result.text
    assert "reset.yaml:10: verify.accept[0]: unknown aspect 'identiti' (did you mean 'identity'?)" in result.err


def test_plan_s_last_verify_claims_only_what_it_checked(shop: Path) -> None:
    """Review finding 13: after a dry clean-files it printed "history consistent ... verify: ok" about the old files."""
    result = run_djreset("plan", "--env", "keep", cwd=shop)
    assert result.code == 0, result.text
    first, last = result.out.split("[2/6] verify")[1].split("[3/6]")[0], result.out.split("[6/6] verify")[1].split("summary")[0]
    assert "verify: ok" in first and "history consistent" in first  # before clean-files: the files on disk are checked
    assert "verify: ok" not in last and "history consistent" not in last, last
    assert "checked the live schema against the predicted new migrations only" in last, last
    assert "makemigrations --check are checked on the new files when the reset runs" in last, last
