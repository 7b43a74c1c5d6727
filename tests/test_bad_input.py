"""The bad-input corpus: every case is refused in one line, with file:line, exit 2.

Each case writes a reset.yaml into a copy of the migrated example and runs
the real ``djreset reset --yes``.  Beyond the message, every case proves that
nothing was touched: the project's files and database are byte-identical.
"""
from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conftest import Result, clean_env, tree_snapshot

SECONDS = 30  # bad input is refused within seconds, even a file built to make a parser hang

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
    Case("keep_recent not a number", VALID.replace("default_env: dev\n", "default_env: dev\nkeep_recent: two\n"), "must be a whole number", 6),
    Case("keep_recent below zero", VALID.replace("default_env: dev\n", "default_env: dev\nkeep_recent: -1\n"), "0 or more", 6),
    Case("cutoff not a mapping", VALID.replace("default_env: dev\n", "default_env: dev\ncutoff: [catalog]\n"), "must map app labels", 6),
    Case("cutoff of an app not listed", VALID.replace("default_env: dev\n", "default_env: dev\ncutoff: {acounts: 0002_x}\n"),
         "'acounts' is not in apps (did you mean 'accounts'?)", 6),
    Case("cutoff naming no migration", VALID.replace("default_env: dev\n", "default_env: dev\ncutoff: {catalog: 0003_seed}\n"),
         "catalog has no migration '0003_seed' (did you mean '0003_seed_categories'?)", 6),
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
    Case("data_migrations naming no migration", VALID + "data_migrations:\n  keep: [catalog.0003_seed_categories]\n  drop:\n    - catalog.0099_nope\n",
         "catalog.0099_nope names no migration: catalog has no migration '0099_nope' on disk", 16),
    Case("data_migrations naming no operation", VALID + "data_migrations:\n  keep:\n    - catalog.0003_seed_categories:99\n",
         "catalog.0003_seed_categories:99: catalog.0003_seed_categories has 1 operation(s)", 15),
    Case("data_migrations naming no app", VALID + "data_migrations: {keep: [catalog.0003_seed_categories, auth.0001_initial, shelf.0001_initial]}\n",
         "shelf.0001_initial names no migration: no installed app 'shelf' has migrations", 13),
    Case("not UTF-8", VALID.encode() + b"# caf\xe9\n", "not UTF-8 text", None),
    Case("config file missing", VALID, "config file not found", None, args=("reset", "--config", "missing.yaml", "--yes")),
    # -- issue 12: each of these was a traceback, a hang, exit 1, or accepted --------------------------
    Case("step option from a variable that is not a boolean", VALID.replace("drop-db, create-db", "{drop-db: {force: '${FORCE_DROP}'}}, create-db"),
         "must be true or false, got 'yes'", 9, env={"FORCE_DROP": "yes"}),
    Case("step option default that is not a boolean", VALID.replace("drop-db, create-db", "{drop-db: {force: '${FORCE_DROP:-maybe}'}}, create-db"),
         "must be true or false, got 'maybe'", 9),
    Case("recursive alias in a list", VALID.replace("apps: [accounts, catalog, orders]", "apps: &a [accounts, *a]"), "recursive alias", 4),
    Case("recursive alias in a mapping", VALID.replace("project:\n  root: .\n", "project: &p\n  root: .\n  again: *p\n"), "recursive alias", 1),
    Case("billion laughs", VALID + "".join(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9) if i else 'lol'}]\n" for i in range(10)),
         "once aliases are expanded", 13),
    Case("brackets nested thousands deep", VALID + "deep: " + "[" * 5000 + "]" * 5000 + "\n", "nested more than", None),
    Case("manage argument with an unbalanced quote", VALID.replace("migrate]\n  keep", "migrate, {manage: \"loaddata 'x\"}]\n  keep"), "cannot split", 9),
    Case("run argument with an unbalanced quote", VALID.replace("migrate]\n  keep", "migrate, {run: \"echo 'x\"}]\n  keep"), "cannot split", 9),
    Case("a contrib app listed", VALID.replace("[accounts,", "[auth, accounts,"), "app 'auth' is not the project's own code", 4),
    Case("password with a literal default", server_env("{engine: postgresql, name: shop, password: '${NOPE:-hunter2}'}"), "a password must not have a default", 15),
    Case("admin password with a literal default", server_env("{engine: mysql, name: shop, admin: {user: root, password: '${NOPE:-hunter2}'}}"),
         "a password must not have a default", 15),
    Case("a file over a megabyte", VALID + "# " + "x" * 1_100_000 + "\n", "larger than 1000000 bytes", None),
    # -- of our own ------------------------------------------------------------------------------------
    Case("variable inside other text for a boolean", VALID.replace("drop-db, create-db", "{drop-db: {force: 'x${F}'}}, create-db"), "write ${VAR} alone", 9),
    Case("variable for a boolean that is not set", VALID.replace("drop-db, create-db", "{drop-db: {force: '${FORCE_DROP}'}}, create-db"), "${FORCE_DROP} is not set", 9),
    Case("boolean option given a number", VALID.replace("drop-db, create-db", "{drop-db: {force: 1}}, create-db"), "must be true or false", 9),
    Case("text option given a number", VALID.replace("drop-db, create-db", "drop-db, create-db, {restore: {backup: 20261129}}"), "must be non-empty text", 9),
    Case("destructive on a step that is not manage or run", VALID.replace("[clean-files, drop-db", "[clean-files, {drop-db: {force: true}, destructive: false}"),
         "only manage and run take destructive", 9),
    Case("destructive that is not a boolean", VALID.replace("migrate]\n  keep", "migrate, {manage: check, destructive: 'no'}]\n  keep"), "must be true or false", 9),
    Case("manage with an option first", VALID.replace("migrate]\n  keep", "migrate, {manage: '--settings=evil migrate'}]\n  keep"), "is not a management command name", 9),
    Case("manage with a command the project lacks", VALID.replace("migrate]\n  keep", "migrate, {manage: 'flsuh --noinput'}]\n  keep"),
         "no management command 'flsuh' (did you mean 'flush'?)", 9),
    Case("manage argument from a variable holding a quote", VALID.replace("migrate]\n  keep", "migrate, {manage: 'loaddata ${FIXTURE}'}]\n  keep"),
         "cannot split", 9, env={"FIXTURE": "seed'.json"}),
    Case("a variable whose value is another ${...}", server_env("{engine: postgresql, name: '${SHOP_DB}'}"), "database names may use", 15,
         args=("reset", "--env", "staging", "--yes"), env={"SHOP_DB": "${HOME}"}),
    Case("mysql option file in options", server_env("{engine: mysql, name: shop, options: {read_default_file: ~/.my.cnf}}"), "read_default_file is refused", 15),
    Case("postgresql service in options", server_env("{engine: postgresql, name: shop, options: {service: prod}}"), "service is refused", 15),
    Case("lock_timeout that is not a number", server_env("{engine: postgresql, name: shop, lock_timeout: soon}"), "must be a whole number", 15),
    Case("lock_timeout from a variable that is not a number", server_env("{engine: mysql, name: shop, lock_timeout: '${T:-abc}'}"),
         "must be a whole number, got 'abc'", 15),
    Case("a merge key with a scalar", VALID + "x:\n  <<: 5\n", "merge", 14),
    Case("a python tag", VALID.replace("default_env: dev", "default_env: !!python/object/apply:os.system ['touch pwned']"), "must be non-empty text", 5),
    Case("two step names in one entry", VALID.replace("migrate]\n  keep", "migrate, {manage: check, run: 'true'}]\n  keep"), "a step is a name", 9),
    # -- review: values PyYAML cannot make were a traceback (exit 1) -----------------------------------
    Case("a date that does not exist", VALID + "backups: {dir: 2024-13-45}\n", "cannot read the value '2024-13-45' (month must be in 1..12)", 13),
    Case("a timestamp that does not exist", VALID + "backups: {dir: 2024-02-30 25:00:00}\n", "day is out of range for month", 13),
    Case("an integer of 5,000 digits", VALID + "backups: {dir: " + "7" * 5000 + "}\n", "Exceeds the limit (4300 digits)", 13),
    Case("a timestamp tag on text", VALID + "backups: {dir: !!timestamp 'x'}\n", "cannot read the value 'x' (not a valid timestamp)", 13),
    Case("a bool tag on text", VALID.replace("default_env: dev", "default_env: !!bool 'x'"), "not a valid bool", 5),
    Case("a date as a key", VALID + "2024-13-45: x\n", "cannot read the value", 13),
    Case("deep but small nesting", VALID + "x: " + "{a: " * 45 + "1" + "}" * 45 + "\n", "nested more than 40 levels", 13),
]


LINKS = [
    ("config link to another folder", "elsewhere/reset.yaml", "is a link to"),
    ("config link to a device", "/dev/zero", "no reset.yaml"),
    ("config link to itself", "reset.yaml", "no reset.yaml"),
]


def run_briefly(args: tuple[str, ...], cwd: Path, env: dict[str, str]) -> tuple[Result, float]:
    """The real CLI; a case that takes more than SECONDS is a failure ("within seconds")."""
    begin = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "djreset", *args], cwd=cwd, env=env, input="", capture_output=True, text=True, timeout=SECONDS)
    return Result(proc.returncode, proc.stdout, proc.stderr), time.monotonic() - begin


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_input_is_refused_cleanly(case: Case, shop: Path, record_property) -> None:
    config = shop / "reset.yaml"
    if isinstance(case.config, bytes):
        config.write_bytes(case.config)
    else:
        config.write_text(textwrap.dedent(case.config))
    before = tree_snapshot(shop)
    result, _ = run_briefly(case.args, shop, clean_env(**case.env))

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


@pytest.mark.parametrize("name,link,message", LINKS, ids=[case[0] for case in LINKS])
def test_a_linked_config_file_is_refused_cleanly(name: str, link: str, message: str, shop: Path, record_property) -> None:
    config = shop / "reset.yaml"
    elsewhere = shop / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "reset.yaml").write_text(VALID)  # its root "." would be elsewhere/, not the project
    config.unlink()
    config.symlink_to(link)
    before = tree_snapshot(shop)
    result, _ = run_briefly(("reset", "--env", "dev", "--yes"), shop, clean_env())
    clean = result.code == 2 and result.out == "" and len(result.err.strip().splitlines()) == 1 and message in result.err
    record_property("bad input", clean and tree_snapshot(shop) == before)
    assert result.code == 2, result.text
    assert len(result.err.strip().splitlines()) == 1 and message in result.err, result.err
    assert tree_snapshot(shop) == before
