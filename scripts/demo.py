#!/usr/bin/env python3
"""The demo: reset copies of examples/shop on SQLite, Case 2 then Case 1.

Works in .work/demo/ (git-ignored), from scratch each time, so it can run
again and again and never touches the example itself.
"""
from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "shop"
WORK = REPO / ".work" / "demo"
APPS = ("accounts", "catalog", "orders")
DATA_TABLES = ("accounts_user", "accounts_address", "catalog_product", "orders_order", "orders_orderline")


def say(text: str) -> None:
    print(f"\n\033[1m## {text}\033[0m" if sys.stdout.isatty() else f"\n## {text}", flush=True)


def run(*argv: str, cwd: Path) -> None:
    print(f"$ {' '.join(argv)}", flush=True)
    subprocess.run(argv, cwd=cwd, check=True)


def fresh_copy(name: str) -> Path:
    target = WORK / name
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns("__pycache__", "*.sqlite3*", ".djreset"))
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=target, check=True)
    subprocess.run([sys.executable, "manage.py", "seed_demo"], cwd=target, check=True, stdout=subprocess.DEVNULL)
    return target


def state(project: Path) -> tuple[int, int, dict[str, int]]:
    files = sum(1 for app in APPS for p in (project / app / "migrations").glob("[0-9]*.py"))
    with closing(sqlite3.connect(project / "db.sqlite3")) as db:
        rows = db.execute("SELECT COUNT(*) FROM django_migrations WHERE app IN (?, ?, ?)", APPS).fetchone()[0]
        data = {table: db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] for table in DATA_TABLES}
    return files, rows, data


def show(label: str, project: Path) -> dict[str, int]:
    files, rows, data = state(project)
    print(f"{label}: {files} migration files, {rows} history rows for {', '.join(APPS)}; data rows {data}")
    return data


def main() -> None:
    djreset = [sys.executable, "-m", "djreset"]

    say("Case 2: keep the database (examples/shop copied to .work/demo/keep)")
    keep = fresh_copy("keep")
    before = show("before", keep)
    # The example installs djreset as a Django app: its tasks are management commands too.
    run(sys.executable, "manage.py", "djreset", "plan", "--env", "keep", cwd=keep)
    run(*djreset, "reset", "--env", "keep", "--yes", cwd=keep)
    after = show("after ", keep)
    run(sys.executable, "manage.py", "migrate", "--check", cwd=keep)
    run(sys.executable, "manage.py", "makemigrations", "--check", "--dry-run", cwd=keep)
    if after != before:
        raise SystemExit("demo: data rows changed in Case 2")

    say("Deploy as usual: another environment (.work/demo/staging) gets the new files and runs plain migrate")
    staging = fresh_copy("staging")
    for app in APPS:
        shutil.rmtree(staging / app / "migrations")
        shutil.copytree(keep / app / "migrations", staging / app / "migrations", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(keep / "reset-history.json", staging / "reset-history.json")
    run(sys.executable, "manage.py", "migrate", cwd=staging)
    show("after ", staging)
    config = keep / "reset.yaml"  # so that status and retire reach it from here
    config.write_text(config.read_text() + f"  staging:\n    database: {{engine: sqlite, name: {staging / 'db.sqlite3'}}}\n    steps: [retire]\n")
    run(*djreset, "status", cwd=keep)

    say("Retire once every environment recorded the new migrations: replaces leaves the files, the old rows go")
    run(*djreset, "retire", "--env", "keep", "--yes", cwd=keep)
    run(*djreset, "retire", "--env", "staging", "--yes", cwd=keep)
    show("after ", keep)
    run(sys.executable, "manage.py", "migrate", "--check", cwd=keep)

    say("Case 1: drop and re-create the database (.work/demo/dev)")
    dev = fresh_copy("dev")
    show("before", dev)
    run(*djreset, "reset", "--env", "dev", "--yes", cwd=dev)
    show("after ", dev)
    run(sys.executable, "manage.py", "migrate", "--check", cwd=dev)

    say("Backups of both runs (djreset restore puts them back)")
    for project in (keep, dev):  # each copy keeps its own .djreset/backups
        run(*djreset, "backups", cwd=project)
    print(f"\ndemo done: the projects are in {WORK}")


if __name__ == "__main__":
    main()
