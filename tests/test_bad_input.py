"""The bad-input corpus: every case is refused in one line, with file:line, exit 2.

Each case writes a reset.yaml into a copy of the migrated example and runs
the real ``djreset reset --yes``.  Beyond the message, every case proves that
nothing was touched: the project's files and database are byte-identical.
"""
from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conftest import clean_env, run_djreset, tree_snapshot

VALID = """\
project:
  root: .
  settings: shop.settings
apps: [accounts, catalog, orders]
default_env: dev
environments:
  dev:
    database: {engine: sqlite, name: db.sqlite3}
    steps: [clean-files, drop-db, create-db, makemigrations, migrate]
  keep:
    database: {engine: sqlite, name: db.sqlite3}
    steps: [fake-zero, clean-files, makemigrations, migrate-fake-initial]
"""


def server_env(database: str) -> str:
    """VALID plus an environment on a server engine with the given database block."""
    return VALID + f"  staging:\n    extends: keep\n    database: {database}\n"


@dataclass
class Case:
    name: str
    config: str | bytes
    message: str
    line: int | None  # None: the error names no line (e.g. the file is missing)
    args: tuple[str, ...] = ("reset", "--env", "dev", "--yes")
    env: dict[str, str] = field(default_factory=dict)


CASES = [
    Case("malformed yaml", VALID.replace("  dev:\n", "  dev:\n\t"), "invalid YAML", 8),
    Case("unclosed flow mapping", VALID.replace("name: db.sqlite3}", "name: db.sqlite3", 1), "invalid YAML", 9),
    Case("not a mapping", "- just\n- a list\n", "the file must be a mapping", 1),
    Case("empty file", "", "missing required key 'project'", 1),
    Case("unknown top-level key", VALID.replace("apps:", "aps:"), "unknown key (did you mean 'apps'?)", 4),
    Case("missing apps", VALID.replace("apps: [accounts, catalog, orders]\n", ""), "missing required key 'apps'", 1),
    Case("apps not a list", VALID.replace("[accounts, catalog, orders]", "accounts"), "non-empty list of app labels", 4),
    Case("dotted app label", VALID.replace("[accounts,", "[shop.accounts,"), "not an app label", 4),
    Case("app listed twice", VALID.replace("orders]", "orders, catalog]"), "'catalog' is listed twice", 4),
    Case("app that does not exist", VALID.replace("[accounts,", "[acounts,"), "no installed app with the label 'acounts' (did you mean 'accounts'?)", 4),
    Case("missing settings", VALID.replace("  settings: shop.settings\n", ""), "missing required key 'settings'", 2),
    Case("settings not a module path", VALID.replace("shop.settings", "shop/settings"), "not a Python module path", 3),
    Case("settings module missing", VALID.replace("shop.settings", "shop.setings"), "cannot import the settings module 'shop.setings'", 3),
    Case("duplicate key", VALID.replace("default_env: dev\n", "default_env: dev\ndefault_env: keep\n"), "duplicate key", 6),
    Case("default_env unknown", VALID.replace("default_env: dev", "default_env: prod"), "no environment named 'prod'", 5),
    Case("unknown --env", VALID, "unknown environment 'kep' (did you mean 'keep'?)", 7, args=("reset", "--env", "kep", "--yes")),
    Case("environment name with a space", VALID.replace("  keep:", "  keep it:"), "environment names use letters", 11),
    Case("unknown environment key", VALID.replace("    steps: [clean", "    step: [clean"), "unknown key (did you mean 'steps'?)", 9),
    Case("unknown step", VALID.replace("[clean-files, drop-db", "[clean-file, drop-db"), "unknown step 'clean-file' (did you mean 'clean-files'?)", 9),
    Case("unknown step option", VALID.replace("drop-db, create-db", "{drop-db: {if_exist: true}}, create-db"), "unknown key (did you mean 'if_exists'?)", 9),
    Case("step option of the wrong type", VALID.replace("drop-db, create-db", "{drop-db: {force: 'yes'}}, create-db"), "must be true or false", 9),
    Case("step with two names", VALID.replace("drop-db, create-db", "{drop-db: {}, create-db: {}}"), "a step is a name", 9),
    Case("manage without a command", VALID.replace("migrate]\n  keep", "migrate, {manage: }]\n  keep"), "manage needs a management command", 9),
    Case("unknown engine", VALID.replace("engine: sqlite, name: db", "engine: sqllite, name: db", 1), "unknown engine 'sqllite' (did you mean 'sqlite'?)", 8),
    Case("database without a name", VALID.replace("{engine: sqlite, name: db.sqlite3}", "{engine: sqlite}", 1), "missing required key 'name'", 8),
    Case("unknown database key", server_env("{engine: postgresql, name: shop, hots: db}"), "unknown key (did you mean 'host'?)", 15),
    Case("port that is not a number", server_env("{engine: postgresql, name: shop, port: fivefour}"), "must be a port number", 15),
    Case("port from a variable that is not a number", server_env("{engine: postgresql, name: shop, port: '${SHOP_PORT:-abc}'}"), "must be a port number, got 'abc'", 15, args=("reset", "--env", "staging", "--yes")),
    Case("literal password", server_env("{engine: postgresql, name: shop, password: hunter2}"), "passwords must come from the environment", 15),
    Case("missing ${VAR}", server_env("{engine: postgresql, name: shop, password: '${SHOP_DB_PASSWORD}'}"), "${SHOP_DB_PASSWORD} is not set", 15, args=("reset", "--env", "staging", "--yes")),
    Case("extends an unknown environment", VALID + "  staging:\n    extends: kep\n", "no environment named 'kep' (did you mean 'keep'?)", 14),
    Case("extends loop", VALID + "  a:\n    extends: b\n  b:\n    extends: a\n", "extends loops: a → b → a", 14),
    Case("database and databases", VALID.replace("    steps: [fake-zero", "    databases: {default: {engine: sqlite, name: x.sqlite3}}\n    steps: [fake-zero", 1), "give either database or databases", 12),
    Case("databases without default", VALID.replace("    database: {engine: sqlite, name: db.sqlite3}\n    steps: [clean-files", "    databases: {other: {engine: sqlite, name: db.sqlite3}}\n    steps: [clean-files"), "databases must include the 'default' alias", 8),
    Case("in-memory sqlite", VALID.replace("name: db.sqlite3}", "name: ':memory:'}", 1), "in-memory SQLite database cannot be reset", 8),
    Case("sqlite path outside the project", VALID.replace("name: db.sqlite3}", "name: ../../../etc/passwd}", 1), "is outside the project", 8),
    Case("database name with a quote", server_env("{engine: postgresql, name: 'shop\"x'}"), "database names may use", 15),
    Case("database name with a semicolon", server_env("{engine: mysql, name: 'shop; DROP DATABASE mysql'}"), "database names may use", 15),
    Case("database name with a space", server_env("{engine: postgresql, name: 'my shop'}"), "database names may use", 15),
    Case("database name in unicode", server_env("{engine: mysql, name: 'boutique_é'}"), "database names may use", 15),
    Case("database name from a variable", server_env("{engine: postgresql, name: '${SHOP_DB}'}"), "database names may use", 15, args=("reset", "--env", "staging", "--yes"), env={"SHOP_DB": "x`; drop"}),
    Case("backup folder outside the project", VALID + "backups: {dir: ../../elsewhere}\n", "is outside the project", 13),
    Case("protected is not a boolean", VALID.replace("  keep:\n", "  keep:\n    protected: sure\n"), "must be true or false", 11),
    Case("data_migrations entry malformed", VALID + "data_migrations: {keep: [catalog]}\n", "is not 'app.migration'", 13),
    Case("not UTF-8", VALID.encode() + b"# caf\xe9\n", "not UTF-8 text", None),
    Case("config file missing", VALID, "config file not found", None, args=("reset", "--config", "missing.yaml", "--yes")),
]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_input_is_refused_cleanly(case: Case, shop: Path, record_property) -> None:
    config = shop / "reset.yaml"
    if isinstance(case.config, bytes):
        config.write_bytes(case.config)
    else:
        config.write_text(textwrap.dedent(case.config))
    before = tree_snapshot(shop)
    result = run_djreset(*case.args, cwd=shop, env=clean_env(**case.env))

    clean = (
        result.code == 2
        and result.out == ""
        and len(result.err.strip().splitlines()) == 1
        and case.message in result.err
        and (case.line is None or f"reset.yaml:{case.line}:" in result.err)
        and tree_snapshot(shop) == before
    )
    record_property("bad input", clean)
    assert result.code == 2, result.text
    assert result.out == "", result.out
    assert len(result.err.strip().splitlines()) == 1, result.err
    assert case.message in result.err
    if case.line is not None:
        assert f"reset.yaml:{case.line}:" in result.err, result.err
    assert "Traceback" not in result.err
    assert "hunter2" not in result.err
    assert tree_snapshot(shop) == before
