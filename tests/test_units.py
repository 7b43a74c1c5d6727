"""Fast, in-process tests of the pure pieces: config loading, schema comparison,
where carried data migrations go, and the runner's backup policy.

The end-to-end tests drive the real CLI; these pin down the rules themselves.
"""
from __future__ import annotations

import textwrap
from pathlib import Path
from types import SimpleNamespace

import pytest
from yaml import safe_dump as fill_choices  # stands for a project's helper in links_statuses below

from djreset import recipe, steps  # noqa: F401 - importing steps registers them
from djreset.bridge import schema
from djreset.bridge.data_migrations import Carry, Dependency, place
from djreset.config import StepCall, load
from djreset.errors import ConfigError

CONFIG = """\
project: {settings: shop.settings}
apps: [accounts, catalog]
default_env: dev
environments:
  dev:
    database: {engine: sqlite, name: db.sqlite3}
    steps: [clean-files, {drop-db: {force: true}}, create-db, makemigrations, migrate]
  staging:
    extends: dev
    database: {engine: postgresql, name: "${SHOP_DB:-shop}", port: "${SHOP_PORT:-5433}", password: "${SHOP_PW}"}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "reset.yaml"
    path.write_text(textwrap.dedent(text))
    return path


# -- config ------------------------------------------------------------------------------


def test_config_builds_the_chosen_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = load(write(tmp_path, CONFIG))
    dev = project.environment()
    assert dev.name == "dev" and [call.name for call in dev.steps][:2] == ["clean-files", "drop-db"]
    assert dev.steps[1].options == {"if_exists": True, "force": True}
    assert dev.databases["default"].name == str(tmp_path / "db.sqlite3")
    monkeypatch.setenv("SHOP_PW", "s3cret")
    staging = project.environment("staging")
    spec = staging.databases["default"]
    assert (spec.engine, spec.name, spec.port) == ("postgresql", "shop", 5433)
    assert spec.password == "s3cret" and "s3cret" not in repr(spec)
    assert staging.steps == dev.steps  # extends: the parent's recipe


def test_config_errors_name_the_line_and_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as error:
        load(write(tmp_path, CONFIG.replace("clean-files,", "clean-file,")))
    assert error.value.where.line == 7
    assert "unknown step 'clean-file' (did you mean 'clean-files'?)" in str(error.value)


def test_config_checks_every_environment_at_load(tmp_path: Path) -> None:
    """An environment nobody chose is still checked whole (pass 1)."""
    broken = CONFIG + "  other:\n    databases: {second: {engine: sqlite, name: x.sqlite3}}\n    steps: [migrate]\n"
    with pytest.raises(ConfigError, match="databases must include the 'default' alias"):
        load(write(tmp_path, broken))


def test_config_variables_are_read_when_the_environment_is_chosen(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = load(write(tmp_path, CONFIG))  # SHOP_PW unset: fine until staging is chosen
    monkeypatch.delenv("SHOP_PW", raising=False)
    with pytest.raises(ConfigError, match=r"\$\{SHOP_PW\} is not set"):
        project.environment("staging")


# -- schema comparison ------------------------------------------------------------------------


def table(columns: dict[str, str], constraints: dict[str, schema.Constraint], **options: str) -> schema.Table:
    return schema.Table(
        {name: schema.Column(name, (("definition", kind),)) for name, kind in columns.items()}, constraints, tuple(options.items())
    )


INDEX = schema.Constraint("index", "(status, created_at)")


def test_compare_a_renamed_index_is_a_warning_only() -> None:
    live = {"orders": table({"id": "int", "status": "varchar"}, {"legacy_idx": INDEX})}
    built = {"orders": table({"id": "int", "status": "varchar"}, {"orders_status_created": INDEX})}
    diff = schema.compare(live, built)
    assert diff.errors == []
    assert diff.warnings == ["table orders: index (status, created_at) is named legacy_idx live, orders_status_created by the migrations"]


def test_compare_reports_structure_differences_as_errors() -> None:
    live = {"orders": table({"id": "int", "status": "text"}, {})}
    built = {"orders": table({"id": "int", "status": "varchar"}, {"orders_status_created": INDEX}), "lines": table({"id": "int"}, {})}
    diff = schema.compare(live, built)
    assert [str(error) for error in diff.errors] == [
        "table lines: missing in the live database",
        "table orders: column status is text live, varchar by the migrations",
        "table orders: index (status, created_at) missing in the live database",
    ]


def test_compare_sees_expressions_predicates_and_options_not_just_columns() -> None:
    """Same columns, different meaning: each is an error (issue 14's drifts)."""
    built = {"item": table({"id": "int"}, {
        "price_pos": schema.Constraint("check", "((price >= 0))"),
        "uniq_active": schema.Constraint("unique index", "(email) WHERE active"),
        "name_deferred": schema.Constraint("unique", "(name) DEFERRABLE INITIALLY DEFERRED"),
        "lower_name": schema.Constraint("index", "(lower((name)::text))"),
    }, comment="items", options="ENGINE=InnoDB")}
    live = {"item": table({"id": "int"}, {
        "price_pos": schema.Constraint("check", "((price >= 1000))"),
        "uniq_active": schema.Constraint("unique index", "(email) WHERE (active = false)"),
        "name_deferred": schema.Constraint("unique", "(name)"),
        "lower_name": schema.Constraint("index", "(lower((name)::text))"),
    }, comment="changed", options="ENGINE=MyISAM")}
    errors = [str(error) for error in schema.compare(live, built).errors]
    assert "table item: comment is changed live, items by the migrations" in errors
    assert "table item: options is ENGINE=MyISAM live, ENGINE=InnoDB by the migrations" in errors
    assert "table item: check ((price >= 0)) missing in the live database" in errors
    assert "table item: check ((price >= 1000)) exists only in the live database" in errors
    assert "table item: unique (name) DEFERRABLE INITIALLY DEFERRED missing in the live database" in errors
    assert "table item: unique index (email) WHERE (active = false) exists only in the live database" in errors
    assert len(errors) == 8  # the expression index is the same: no error


def test_compare_reports_accepted_differences_apart_never_hides_them() -> None:
    serial = schema.Column("id", (("type", "integer"), ("identity", "serial (a sequence default)")))
    identity = schema.Column("id", (("type", "integer"), ("identity", "GENERATED BY DEFAULT AS IDENTITY")))
    retyped = schema.Column("id", (("type", "bigint"), ("identity", "serial (a sequence default)")))
    built = {"a": schema.Table({"id": identity}, {}), "b": schema.Table({"id": identity}, {})}
    live = {"a": schema.Table({"id": serial}, {}), "b": schema.Table({"id": retyped}, {})}
    diff = schema.compare(live, built, accept=["*.id identity"])
    assert [(d.key, d.aspect, entry) for d, entry in diff.accepted] == [("a.id", "identity", "*.id identity"), ("b.id", "identity", "*.id identity")]
    assert [str(error) for error in diff.errors] == ["table b: column id: type is bigint live, integer by the migrations"]
    everything_of_b = schema.compare(live, built, accept=["*.id identity", "b"])
    assert not everything_of_b.errors and ("b.id", "type", "b") in [(d.key, d.aspect, entry) for d, entry in everything_of_b.accepted]


def test_catalog_normal_form_ignores_quoting_case_and_spacing_only() -> None:
    from djreset.engines.catalog import normalize
    from djreset.engines.catalog.mysql import MySQLCatalog
    from djreset.engines.catalog.sqlite import SQLiteCatalog

    assert normalize('CREATE INDEX "a" ON "t" ("status", "created_at")') == normalize("create index a on t(status,created_at)")
    assert normalize("CHECK (price >= 0)") != normalize("CHECK (price >= 1000)")
    assert normalize("x = 'A b'") != normalize("x = 'a b'")  # literals are data
    sqlite = SQLiteCatalog().table('CREATE TABLE "t" ("id" integer NOT NULL PRIMARY KEY, "d" integer GENERATED ALWAYS AS ("q" * 2) STORED, CONSTRAINT "p" CHECK ("q" >= 0))')
    assert sqlite.columns["d"].describe() == "integer generated always as(q * 2) stored"
    assert sqlite.constraints["p"] == schema.Constraint("check", "(q >= 0)")
    named_like_keywords = SQLiteCatalog().table(
        'CREATE TABLE "t" ("checksum" varchar(32) NOT NULL, "unique_serial" integer NULL, "foreign_rate" real NULL, '
        '"primary_keyholder" integer NULL, CHECK ("unique_serial" >= 0), UNIQUE ("checksum"))')
    assert sorted(named_like_keywords.columns) == ["checksum", "foreign_rate", "primary_keyholder", "unique_serial"]
    assert sorted(c.kind for c in named_like_keywords.constraints.values()) == ["check", "unique"]
    mysql = MySQLCatalog().table(
        "CREATE TABLE `t` (\n  `id` bigint(20) NOT NULL AUTO_INCREMENT,\n  `body` longtext NOT NULL,\n"
        "  PRIMARY KEY (`id`),\n  KEY `body_prefix` (`body`(20))\n) ENGINE=InnoDB AUTO_INCREMENT=7 DEFAULT CHARSET=utf8mb4 COMMENT='items'"
    )
    assert mysql.constraints["body_prefix"] == schema.Constraint("index", "(body(20))")
    assert dict(mysql.options) == {"comment": "items", "options": "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"}


# -- where carried migrations go --------------------------------------------------------------


def carry(app: str, migration: str, *, first: bool = False, dependencies: tuple = ()) -> Carry:
    return Carry(app, f"{app}.{migration}", migration, "", (1,), first, dependencies)


def test_two_kept_migrations_of_one_app_form_one_chain_after_its_last_new_migration() -> None:
    placed = place([carry("dcim", "0003_seed"), carry("dcim", "0006_profiles")], {"dcim": ["0001_initial", "0002_initial"]})
    assert [(p.name, p.dependencies) for p in placed] == [
        ("0003_seed", (Dependency("dcim", "0002_initial"),)),
        ("0004_profiles", (Dependency("dcim", "0003_seed"),)),
    ]


def test_an_extension_runs_before_the_first_new_migration_of_every_listed_app() -> None:
    placed = place(
        [carry("dcim", "0002_collation", first=True, dependencies=(("ipam", "0001_initial", None),)), carry("dcim", "0003_seed")],
        {"dcim": ["0001_initial"], "ipam": ["0001_initial"], "users": []},
    )
    extension, seed = placed
    assert extension.dependencies == ()  # nothing of a listed app can come first
    assert extension.run_before == (("dcim", "0001_initial"), ("ipam", "0001_initial"))
    assert seed.dependencies == (Dependency("dcim", "0001_initial"),)  # not on the extension: one leaf per app


def test_a_carry_follows_another_app_carried_migration_and_keeps_outside_dependencies() -> None:
    placed = place(
        [
            carry("catalog", "0004_seed"),
            carry("orders", "0003_seed", dependencies=(("catalog", "0004_seed", None), ("auth", "0012_alter", None), ("accounts", "__first__", "AUTH_USER_MODEL"))),
        ],
        {"catalog": ["0001_initial"], "orders": ["0001_initial"], "accounts": ["0001_initial"]},
    )
    assert placed[1].dependencies == (
        Dependency("orders", "0001_initial"),
        Dependency("catalog", "0002_seed"),
        Dependency("auth", "0012_alter"),
        Dependency("accounts", "0001_initial"),
    )


def test_a_carry_depends_once_per_listed_app_on_the_latest_migration_its_origin_saw() -> None:
    """Its origin's ancestry named catalog's latest node and catalog's kept
    0004_seed: one dependency on catalog, the carried seed (after its new ones)."""
    placed = place(
        [
            carry("catalog", "0004_seed"),
            carry("orders", "0003_seed", dependencies=(("catalog", "0006_price", None), ("catalog", "0004_seed", None), ("auth", "0012_alter", None))),
        ],
        {"catalog": ["0001_initial", "0002_initial"], "orders": ["0001_initial"]},
    )
    assert placed[1].dependencies == (Dependency("orders", "0001_initial"), Dependency("catalog", "0003_seed"), Dependency("auth", "0012_alter"))


def test_a_carry_in_an_app_without_models_becomes_its_first_migration() -> None:
    (placed,) = place([carry("seed", "0003_data", dependencies=(("catalog", "0002_x", None),))], {"seed": [], "catalog": ["0001_initial"]})
    assert (placed.name, placed.dependencies) == ("0001_data", (Dependency("catalog", "0001_initial"),))


def test_step_options_read_variables_then_take_their_kind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, CONFIG.replace("{drop-db: {force: true}}", "{drop-db: {force: '${FORCE_DROP:-false}', if_exists: '${IFX:-TRUE}'}}"))
    monkeypatch.delenv("FORCE_DROP", raising=False)
    drop = load(path).environment("dev").steps[1]
    assert drop.options == {"force": False, "if_exists": True}  # never the truthy string "false"
    monkeypatch.setenv("FORCE_DROP", "true")
    assert load(path).environment("dev").steps[1].options["force"] is True
    monkeypatch.setenv("FORCE_DROP", "yes")
    with pytest.raises(ConfigError, match="must be true or false, got 'yes' from"):
        load(path).environment("dev")


def test_a_carried_migration_has_the_reset_tag_in_its_name_and_replaces_its_origin() -> None:
    (placed,) = place([carry("catalog", "0003_seed_categories")], {"catalog": ["0001_reset_20261125"]}, "reset_20261125")
    assert placed.name == "0002_reset_20261125_seed_categories"
    assert placed.replaces == (("catalog", "0003_seed_categories"),)


# -- replacing migrations: names, replaces, partial resets, retiring ------------------------------


def fake_loader(names: dict[str, list[str]]) -> SimpleNamespace:
    return SimpleNamespace(disk_migrations={(app, name): None for app, listed in names.items() for name in listed})


def test_the_reset_tag_is_the_date_and_never_a_name_an_old_migration_has() -> None:
    from datetime import datetime, timezone

    from djreset.bridge.replacing import reset_tag

    day = datetime(2026, 11, 25, 23, 59, tzinfo=timezone.utc)
    assert reset_tag(fake_loader({"catalog": ["0001_initial", "0002_x"]}), ["catalog"], day) == "reset_20261125"
    again = fake_loader({"catalog": ["0001_reset_20261125", "0002_reset_20261125_seed"], "other": ["0001_reset_20261125_2"]})
    assert reset_tag(again, ["catalog"], day) == "reset_20261125_2"  # an unlisted app's names do not count
    assert reset_tag(fake_loader({"catalog": ["0001_reset_20261125_2"]}), ["catalog"], day) == "reset_20261125_3"


def test_each_new_migration_replaces_one_old_and_the_last_takes_the_rest() -> None:
    from djreset.bridge.replacing import Split, assign

    left = [SimpleNamespace(name="0001_reset_x", replaces=[]), SimpleNamespace(name="0002_reset_x", replaces=[])]
    right = [SimpleNamespace(name="0001_reset_x", replaces=[])]
    splits = {"left": Split(("0001_initial", "0002_fk", "0003_seed", "0004_more")), "right": Split(("0001_initial",))}
    assign({"left": left, "right": right}, {("left", "0003_seed")}, splits)
    assert [m.replaces for m in left] == [[("left", "0001_initial")], [("left", "0002_fk"), ("left", "0004_more")]]
    assert right[0].replaces == [("right", "0001_initial")]


def test_more_new_migrations_than_old_ones_share_the_last_old_one() -> None:
    """The shared one's unlisted dependents run after the last sharer; what ran before it, before the first."""
    from djreset.bridge.replacing import Split, assign

    made = [SimpleNamespace(name=f"000{i}_reset_x", replaces=[], dependencies=[], run_before=[]) for i in (1, 2, 3, 4)]
    outside = [(("fans", "0001_initial"), None, ("cloud", "0002_b"), "dependencies"),
               (("early", "0003_x"), None, ("cloud", "0002_b"), "run_before"),
               (("fans", "0002_more"), None, ("cloud", "0001_a"), "dependencies")]
    assign({"cloud": made}, set(), {"cloud": Split(("0001_a", "0002_b"))}, outside)
    assert [m.replaces for m in made] == [[("cloud", "0001_a")]] + [[("cloud", "0002_b")]] * 3
    assert made[-1].run_before == [("fans", "0001_initial")] and made[1].dependencies == [("early", "0003_x")]
    assert made[0].run_before == made[0].dependencies == []


def test_a_kept_migration_is_re_pointed_with_its_quotes_and_layout() -> None:
    from djreset.bridge.replacing import repoint_source

    source = textwrap.dedent("""\
        from django.db import migrations


        class Migration(migrations.Migration):
            dependencies = [
                ("catalog", "0003_seed_categories"),  # the seed came first
                ('orders', '0002_orderline'),
                migrations.swappable_dependency(settings.AUTH_USER_MODEL),
            ]
            run_before = [("catalog", "0003_seed_categories")]
            operations = []
        """)
    mapping = {("catalog", "0003_seed_categories"): ("catalog", "0002_reset_x_seed"), ("orders", "0002_orderline"): ("orders", "0001_reset_x")}
    edited = repoint_source(source, mapping)
    assert '("catalog", "0002_reset_x_seed"),  # the seed came first' in edited
    assert "('orders', '0001_reset_x')," in edited
    assert 'run_before = [("catalog", "0002_reset_x_seed")]' in edited
    assert edited.count("\n") == source.count("\n")


def test_retiring_removes_the_replaces_statement_and_nothing_else() -> None:
    from djreset.bridge.replacing import without_replaces

    source = textwrap.dedent("""\
        class Migration(migrations.Migration):

            replaces = [('catalog', '0001_initial'),
                        ('catalog', '0002_product_sku')]

            initial = True

            dependencies = [
            ]
        """)
    assert without_replaces(source) == "class Migration(migrations.Migration):\n\n    initial = True\n\n    dependencies = [\n    ]\n"
    assert without_replaces("class Migration:\n    initial = True\n") is None


def test_where_a_database_stands_is_read_from_its_rows() -> None:
    from djreset.bridge.rollout import AppReset, Standing, classify

    reset = AppReset("catalog", frozenset({"0001_initial", "0002_sku", "0003_seed"}), frozenset({"0001_reset_x", "0002_reset_x_seed"}))
    assert classify(reset, set()).standing is Standing.EMPTY
    assert classify(reset, {"0001_initial", "0002_sku", "0003_seed"}).standing is Standing.OLD
    assert classify(reset, {"0001_initial", "0002_sku", "0003_seed", "0001_reset_x", "0002_reset_x_seed"}).standing is Standing.RECORDED
    assert classify(reset, {"0001_reset_x", "0002_reset_x_seed", "0004_later"}).standing is Standing.RETIRED
    partial = classify(reset, {"0001_initial", "0002_sku"})
    assert (partial.standing, partial.missing) == (Standing.PARTIAL, ("0003_seed",))
    assert not partial.standing.safe
    assert partial.describe("catalog") == "catalog: only part of its old history is applied (catalog.0003_seed never was)"


def test_while_files_replace_django_decides_for_each_new_migration_on_its_own() -> None:
    """A partial reset in flight: the new initial replaces what this database applied,
    the carried seed replaces a migration it has not reached yet; migrate handles
    both (records one, runs the other), so that is not "only part of the old history"."""
    from djreset.bridge.rollout import AppReset, Standing, classify

    initial, seed = ("0001_reset_x", frozenset({"0001_initial", "0002_sku"})), ("0002_reset_x_seed", frozenset({"0003_seed"}))
    reset = AppReset("catalog", initial[1] | seed[1], frozenset({initial[0], seed[0]}), (initial, seed))
    behind = {"0001_initial", "0002_sku"}
    assert classify(reset, behind).standing is Standing.OLD
    assert reset.recordable(behind) == ["0001_reset_x"]  # the seed is run by migrate, never recorded unrun
    partial = classify(reset, {"0001_initial"})
    assert (partial.standing, partial.missing) == (Standing.PARTIAL, ("0002_sku",))
    assert reset.recordable(behind | {"0003_seed"}) == ["0001_reset_x", "0002_reset_x_seed"]


def test_only_what_a_reset_wrote_is_a_reset_not_the_projects_own_squashes() -> None:
    from djreset.bridge.rollout import from_files

    squash, reset = SimpleNamespace(replaces=[("shop", "0001_initial"), ("shop", "0002_qty")]), SimpleNamespace(replaces=[("shop", "0003_x")])
    loader = SimpleNamespace(disk_migrations={("shop", "0001_squashed_0002_qty"): squash, ("shop", "0004_reset_20261129"): reset})
    later = SimpleNamespace(replaces=[("shop", "0004_reset_20261129"), ("shop", "0005_y")])  # the team squashed after a reset
    loader.disk_migrations[("shop", "0001_squashed_0005_reset_20261129_y")] = later
    found = from_files(loader)
    assert (found["shop"].new, found["shop"].old) == ({"0004_reset_20261129"}, {"0003_x"})


def test_config_reads_a_partial_reset(tmp_path: Path) -> None:
    partial = load(write(tmp_path, CONFIG.replace("default_env: dev\n", "default_env: dev\nkeep_recent: 2\ncutoff: {catalog: 0003_seed}\n"))).partial
    assert (partial.keep_recent, dict(partial.cutoff), partial.cutoff_where["catalog"].line) == (2, {"catalog": "0003_seed"}, 5)
    assert not load(write(tmp_path, CONFIG)).partial
    with pytest.raises(ConfigError, match="'orders' is not in apps"):
        load(write(tmp_path, CONFIG.replace("default_env: dev\n", "default_env: dev\ncutoff: {orders: 0003_x}\n")))


# -- the runner's backup policy ----------------------------------------------------------------


def fake_run(*, dry: bool = False, enabled: bool = True, dump: bool = True, replaces: tuple[str, ...] = ()) -> SimpleNamespace:
    return SimpleNamespace(dry=dry, project=SimpleNamespace(backups_enabled=enabled, dump_database=dump), state=SimpleNamespace(replaces=list(replaces)))


def calls(*names: str) -> list[StepCall]:
    from djreset import registry

    return [StepCall(name, registry.get(name).defaults(), None) for name in names]


def planned(run: SimpleNamespace, *names: str) -> list[tuple[str, dict, bool]]:
    return [(r.call.name, dict(r.call.options), r.number is None) for r in recipe.plan(run, calls(*names))]


def test_the_automatic_backup_goes_before_the_first_destructive_step_and_dumps_a_dropped_database() -> None:
    steps_ = planned(fake_run(), "clean-files", "drop-db", "create-db")
    assert steps_[0] == ("backup", {"database": True, "reason": "before reset"}, True)
    assert [name for name, _, _ in steps_[1:]] == ["clean-files", "drop-db", "create-db"]
    keep = planned(fake_run(), "check", "verify", "clean-files", "record-new")
    assert keep[2] == ("backup", {"database": False, "reason": "before reset"}, True)


def test_no_automatic_backup_in_a_dry_run_with_backups_off_or_after_an_explicit_backup() -> None:
    for run, names in (
        (fake_run(dry=True), ("clean-files",)),
        (fake_run(enabled=False), ("clean-files",)),
        (fake_run(), ("check-applied", "backup", "rewrite-history")),
        (fake_run(), ("check", "verify")),
    ):
        assert all(not automatic for _, _, automatic in planned(run, *names))


def test_a_restore_is_backed_up_first() -> None:
    assert planned(fake_run(), "restore")[0] == ("backup", {"database": False, "reason": "before restore"}, True)


def test_a_restore_that_replaces_a_database_dumps_it_first_even_with_backups_off() -> None:
    # Undoable: the live database goes into the safety backup before the restore drops it.
    assert planned(fake_run(replaces=("default",)), "restore")[0] == ("backup", {"database": True, "reason": "before restore"}, True)
    assert planned(fake_run(enabled=False, dump=False, replaces=("default",)), "restore")[0][1]["database"] is True


def test_steps_that_change_data_through_django_get_a_dump() -> None:
    assert planned(fake_run(), "clean-files", "makemigrations", "migrate-fake-initial")[0][1]["database"] is True
    assert planned(fake_run(), "manage")[0] == ("backup", {"database": True, "reason": "before manage"}, True)
    assert planned(fake_run(dump=False), "clean-files", "migrate")[0][1]["database"] is False


def test_manage_and_run_are_destructive_unless_reset_yaml_says_otherwise() -> None:
    from djreset import registry

    harmless = StepCall("manage", {}, "check", destructive=False)
    assert StepCall("run", {}, "true").is_destructive and not harmless.is_destructive
    assert recipe.plan(fake_run(), [harmless])[0].call is harmless  # no backup before it
    assert registry.get("manage").destructive


# -- a first decision for each data migration (init) ---------------------------------------------


def seeds(apps, schema_editor):
    Genre = apps.get_model("library", "Genre")
    Genre.objects.using(schema_editor.connection.alias).bulk_create([Genre(name="Poetry")])


def builds_and_saves(apps, schema_editor):
    Setting = apps.get_model("library", "Setting")
    _save(Setting(key="a"))


def _save(instance):
    instance.save()


def links_statuses(apps, schema_editor):
    """Nautobot's dcim.0011: a helper from another module creates the rows, then existing ones are saved."""
    fill_choices(apps, schema_editor, models=["dcim.Interface"])
    for interface in apps.get_model("dcim", "Interface").objects.all():
        interface.save()


def backfills(apps, schema_editor):
    Book = apps.get_model("library", "Book")
    for book in Book.objects.filter(isbn=""):
        book.isbn = "0"
        book.save()
    Book.objects.filter(title="").delete()


TRGM = "CREATE INDEX {0}_trgm ON {0} USING gin (name gin_trgm_ops)"
BTREE_GIN = "CREATE EXTENSION IF NOT EXISTS btree_gin"  # reached through a module constant


def indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        schema_editor.execute(BTREE_GIN)
        schema_editor.execute(TRGM.format("library_genre"))


def test_triage_keeps_what_creates_and_drops_what_only_changes_existing_rows() -> None:
    from django.db import migrations, models

    from djreset.bridge.triage import suggest

    state = migrations.SeparateDatabaseAndState(state_operations=[migrations.AddField("book", "x", models.IntegerField())])
    cases = {
        "seeds": (migrations.RunPython(seeds), "keep", "creates rows (bulk_create)"),
        "builds": (migrations.RunPython(builds_and_saves), "keep", "creates rows (save)"),
        "backfills": (migrations.RunPython(backfills), "drop", "only updates or deletes"),
        "imported helper": (migrations.RunPython(links_statuses), "keep", "calls fill_choices from another module"),
        "noop": (migrations.RunPython(migrations.RunPython.noop), "drop", "does nothing"),
        "elidable": (migrations.RunPython(seeds, elidable=True), "drop", "elidable=True"),
        "elidable index": (migrations.RunPython(indexes, elidable=True), "keep", "elidable=True, but creates database objects"),
        "elidable sql": (migrations.RunSQL("CREATE INDEX i ON t (x)", elidable=True), "keep", "but creates database objects"),
        "elidable insert": (migrations.RunSQL("INSERT INTO t VALUES (1)", elidable=True), "drop", "elidable=True: Django"),
        "elidable view": (migrations.RunSQL("CREATE MATERIALIZED VIEW v AS SELECT 1", elidable=True), "keep", "but creates database objects"),
        "state": (state, "drop", "part of the new initial migration"),
        "state and index": (migrations.SeparateDatabaseAndState(
            state_operations=state.state_operations, database_operations=[migrations.RunSQL("CREATE INDEX CONCURRENTLY i ON t (x)")]),
            "drop", "what it did is part of the new initial migration"),
        "state and fts": (migrations.SeparateDatabaseAndState(
            state_operations=state.state_operations, database_operations=[migrations.RunSQL("CREATE VIRTUAL TABLE f USING fts5(x)")]),
            "drop", "but not what its database side creates by SQL or code"),
        "sql state": (migrations.RunSQL("ALTER TABLE t ADD x int", state_operations=state.state_operations), "drop", "part of the new"),
        "sql index": (migrations.RunSQL(["CREATE INDEX i ON t (x)", ("INSERT INTO t VALUES (%s)", [1])]), "keep", "creates database objects"),
        "sql update": (migrations.RunSQL("UPDATE t SET x = 1; DELETE FROM t WHERE x = 2"), "drop", "only updates or deletes"),
    }
    for name, (operation, verdict, reason) in cases.items():
        found = suggest(operation)
        assert found[0] == verdict and reason in found[1], (name, found)


def test_a_survey_tells_what_is_safe_and_what_retire_waits_for() -> None:
    """Once the files no longer replace (retired), the old history is not safe for plain migrate;
    retire waits for every database on the old history and for every one it could not read."""
    from djreset.bridge import rollout, survey

    old, recorded = rollout.AppStanding(rollout.Standing.OLD), rollout.AppStanding(rollout.Standing.RECORDED)
    staging = survey.Database(["staging"], "default", "sqlite s", apps={"shop": old})
    keep = survey.Database(["dev", "keep"], "default", "sqlite k", apps={"shop": recorded})
    prod = survey.Database(["prod"], "?", "-", unreachable="${PROD_PASSWORD} is not set")
    assert staging.safe and staging.state() == "old history applied: migrate records the new migrations"
    found = survey.Survey({}, [keep, staging, prod], replacing=frozenset({"shop"}))
    assert found.not_ready_to_retire() == [
        "staging (default): shop: old history applied: it has not recorded the new migrations (deploy the reset there: plain `manage.py migrate`)",
        "prod (?): cannot be read (${PROD_PASSWORD} is not set): retire must see every environment of reset.yaml; make it reachable "
        "from here (its ${VAR}s, its server, its file), or take the environment out of reset.yaml if that database is gone",
    ]
    assert (found.unsafe(), found.unreachable()) == ([], [prod])
    staging.retired = keep.retired = frozenset({"shop"})
    assert not staging.safe and keep.safe and "run the deploy recipe first: check-applied, backup, rewrite-history, verify" in staging.problems()[0]
    assert staging.state() == "NOT SAFE: old history applied, files retired (run the deploy recipe)"


def test_project_state_is_djangos_make_state_without_the_quadratic_plan() -> None:
    """Same migrations, same order, same models, for the leaves and for a node's
    state before it runs (at_end=False), over a graph with two apps and a cross dependency."""
    from django.db import migrations, models
    from django.db.migrations.graph import MigrationGraph

    from djreset.bridge.graphs import project_state

    graph = MigrationGraph()
    chains = {"a": ["0001", "0002", "0003"], "b": ["0001", "0002"]}
    for app, names in chains.items():
        for number, name in enumerate(names):
            migration = migrations.Migration(name, app)
            migration.operations = (
                [migrations.CreateModel("Thing", [("id", models.AutoField(primary_key=True))])] if number == 0
                else [migrations.AddField("thing", f"f{name}", models.IntegerField(default=0))]
            )
            graph.add_node((app, name), migration)
            if number:
                graph.add_dependency(migration, (app, name), (app, names[number - 1]))
    graph.add_dependency(None, ("b", "0002"), ("a", "0002"))
    for nodes, at_end in ((graph.leaf_nodes(), True), ([("b", "0002")], False), ([("a", "0002"), ("b", "0001")], True)):
        ours, django = project_state(graph, nodes, at_end=at_end), graph.make_state(nodes=list(nodes), at_end=at_end)
        assert ours.models.keys() == django.models.keys()
        assert {key: list(model.fields) for key, model in ours.models.items()} == {key: list(model.fields) for key, model in django.models.items()}
    assert list(project_state(graph, [("b", "0002")], at_end=False).models[("a", "thing")].fields) == ["id", "f0002"]


def seeds_categories(apps, schema_editor):
    Category = apps.get_model("shop", "Category")
    Category.objects.bulk_create([Category(name="Misc"), Category(name="Books")])


def renames_categories(apps, schema_editor):
    apps.get_model("shop", "Category").objects.filter(name="Misc").update(name="Other")


def prunes_orders(apps, schema_editor):
    apps.get_model("shop", "Order").objects.filter(total=0).delete()


def test_init_keeps_what_changes_rows_a_kept_seed_creates() -> None:
    """A fresh database gets the seeded rows, so an update of those rows must run
    there too; an update of other models' rows still has nothing to do."""
    from django.db import migrations
    from django.db.migrations.graph import MigrationGraph

    from djreset.bridge.data_migrations import SpecialOperation
    from djreset.init import decide

    graph, disk, ops = MigrationGraph(), {}, []
    for number, code in enumerate((seeds_categories, renames_categories, prunes_orders), 1):
        name = f"000{number}_{code.__name__}"
        migration = migrations.Migration(name, "shop")
        migration.operations = [migrations.RunPython(code)]
        disk[("shop", name)] = migration
        graph.add_node(("shop", name), migration)
        if number > 1:
            graph.add_dependency(migration, ("shop", name), ("shop", ops[-1].migration))
        ops.append(SpecialOperation("shop", name, f"shop.{name}", 1, "RunPython", Path("x.py"), 1))
    verdicts = {d.entry: (d.verdict, d.reason) for d in decide(SimpleNamespace(disk_migrations=disk, graph=graph), ops)}
    assert verdicts["shop.0001_seeds_categories"][0] == "keep"
    assert verdicts["shop.0002_renames_categories"] == ("keep", "RunPython: changes rows that the kept shop.0001_seeds_categories creates: a fresh database needs the change too")
    assert verdicts["shop.0003_prunes_orders"][0] == "drop"


def test_what_runs_first_and_what_the_initial_migration_already_holds() -> None:
    from django.contrib.postgres.operations import AddIndexConcurrently, CreateCollation, HStoreExtension, ValidateConstraint
    from django.db import migrations, models

    from djreset.bridge.data_migrations import carries_state, creates_prerequisite
    from djreset.bridge.triage import suggest

    index = models.Index(fields=["name"], name="item_name")
    assert creates_prerequisite(HStoreExtension()) and creates_prerequisite(CreateCollation("natural", provider="icu", locale="und-u-kn"))
    assert creates_prerequisite(migrations.RunSQL("CREATE EXTENSION IF NOT EXISTS pg_trgm;"))
    assert creates_prerequisite(migrations.RunSQL(["CREATE SCHEMA audit", "CREATE TYPE mood AS ENUM ('a', 'b')"]))
    assert not creates_prerequisite(migrations.RunSQL("CREATE EXTENSION x; CREATE INDEX i ON t (x)"))
    assert not creates_prerequisite(migrations.RunSQL("INSERT INTO t VALUES (1)"))
    assert carries_state(AddIndexConcurrently("item", index)) and not creates_prerequisite(AddIndexConcurrently("item", index))
    assert suggest(AddIndexConcurrently("item", index))[0] == "drop"
    assert suggest(ValidateConstraint("item", "positive")) == ("drop", "validates a constraint: the new initial migration creates it valid")


def test_a_kept_run_before_points_at_what_stands_for_its_target_after_the_reset() -> None:
    """On an unlisted app: as it is; on a listed app's carried migration: that one; else the app's first new one."""
    from dataclasses import replace

    rates = replace(carry("legacy", "0001_rates"), run_before=(("shop", "0006_rate"), ("reports", "0002_x"), ("legacy", "0002_use")))
    uses = carry("legacy", "0002_use")
    placed = place([rates, uses], {"shop": ["0001_r"], "legacy": []}, "r")
    assert placed[0].run_before == (("shop", "0001_r"), ("reports", "0002_x"), ("legacy", "0002_r_use"))


def test_run_first_carried_migrations_chain_and_run_before_the_models_on_a_scratch_database() -> None:
    """A chain of extension migrations runs before the models; one that runs after a listed
    app's new migration does not, whatever its run_before; a sequence owned by a table is no prerequisite."""
    from django.db import migrations

    from djreset.bridge.data_migrations import creates_prerequisite
    from djreset.bridge.graphs import before_models

    def made(name: str, dependencies: list, run_before: list) -> migrations.Migration:
        migration = migrations.Migration(name, "shop")
        migration.dependencies, migration.run_before = dependencies, run_before
        return migration

    hstore = made("0002_r_initial", [], [("shop", "0001_r"), ("reviews", "0001_r")])
    trigram = made("0003_r_trigram", [("shop", "0002_r_initial")], [("shop", "0001_r"), ("reviews", "0001_r")])
    seed = made("0004_r_seed", [("shop", "0001_r")], [("reviews", "0001_r")])
    assert before_models([hstore, trigram, seed], {"shop", "reviews"}) == {("shop", "0002_r_initial"), ("shop", "0003_r_trigram")}
    assert not creates_prerequisite(migrations.RunSQL("CREATE SEQUENCE item_code OWNED BY shop_item.code"))


def test_an_update_kept_for_a_seed_the_trial_drops_is_dropped_with_it() -> None:
    from djreset.init import Decision, Draft, dropped_on_trial

    draft = Draft("s", ["shop"], {}, {}, [
        Decision("shop.0001_seed", "keep", "RunPython: creates rows (bulk_create): a fresh database needs them"),
        Decision("shop.0002_fix", "keep", "RunPython: changes rows that the kept shop.0001_seed creates: a fresh database needs the change too"),
    ], "keep")
    after = {d.entry: (d.verdict, d.reason) for d in dropped_on_trial(draft, {"shop.0001_seed": "LookupError: no model"}).decisions}
    assert after["shop.0001_seed"] == ("drop", "RunPython: fails on the new history (LookupError: no model); "
                                                "it was kept for this: creates rows (bulk_create): a fresh database needs them")
    assert after["shop.0002_fix"][0] == "drop" and "only updates or deletes" in after["shop.0002_fix"][1]
    # Kept for two seeds, one of which the trial drops (Wagtail's 0075): kept, naming only the one left.
    both = "; ".join(f"RunPython: changes rows that the kept shop.{seed} creates: a fresh database needs the change too"
                     for seed in ("0001_seed", "0003_more"))
    draft = Draft("s", ["shop"], {}, {}, [Decision("shop.0001_seed", "keep", "RunPython: creates rows"),
                                          Decision("shop.0003_more", "keep", "RunPython: creates rows"),
                                          Decision("shop.0004_fix", "keep", both)], "keep")
    after = {d.entry: (d.verdict, d.reason) for d in dropped_on_trial(draft, {"shop.0001_seed": "LookupError: no model"}).decisions}
    assert after["shop.0004_fix"] == ("keep", "RunPython: changes rows that the kept shop.0003_more creates: a fresh database needs the change too")


def test_a_failing_migration_drafted_per_operation_drops_its_kept_operations() -> None:
    """Nautobot's extras.0059: drafted per operation (one drop, one keep), then the trial fails on the
    whole migration (init crashed with a KeyError on 'extras.0059_x:2')."""
    from djreset.init import Decision, Draft, dropped_on_trial

    draft = Draft("s", ["extras"], {}, {}, [
        Decision("extras.0059_x:1", "drop", "RunPython: only updates or deletes existing rows: nothing to do on a fresh database"),
        Decision("extras.0059_x:2", "keep", "RunPython: creates rows (create): a fresh database needs them"),
    ], "keep")
    after = {d.entry: d for d in dropped_on_trial(draft, {"extras.0059_x": "FieldError: no field"}).decisions}
    assert (after["extras.0059_x:2"].verdict, after["extras.0059_x:2"].reason) == (
        "drop", "RunPython: fails on the new history (FieldError: no field); it was kept for this: creates rows (create): a fresh database needs them")
    assert after["extras.0059_x:1"].verdict == "drop"


def test_an_extension_a_runpython_creates_is_one_the_listed_apps_create() -> None:
    """schema_editor.execute("CREATE EXTENSION ...") in a RunPython (Weblate's trigram index): the scratch
    database must not get it ready-made, or a migration that needs it passes there and fails on a fresh one."""
    from django.db import migrations

    from djreset.bridge.data_migrations import extensions_created

    loader = SimpleNamespace(disk_migrations={
        ("library", "0002_index"): SimpleNamespace(operations=[migrations.RunPython(indexes, elidable=True)]),
        ("reviews", "0001_initial"): SimpleNamespace(operations=[migrations.RunSQL("CREATE EXTENSION citext")]),
    })
    assert extensions_created(loader, ["library"]) == {"pg_trgm", "btree_gin"}
    dynamic = SimpleNamespace(disk_migrations={("library", "0003_x"): SimpleNamespace(operations=[migrations.RunSQL(
        "CREATE EXTENSION IF NOT EXISTS {}")])})
    assert extensions_created(dynamic, ["library"]) == set()  # a name only when written out, never "if"
