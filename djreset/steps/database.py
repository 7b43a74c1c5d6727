"""drop-db and create-db: the whole database, through its engine."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from djreset import state
from djreset.engines import Engine
from djreset.registry import Option, step
from djreset.run import Run
from djreset.safety import faults


def _facts_file(run: Run, engine: Engine) -> Path:
    return state.dropped_facts_path(run.project, engine.name, engine.alias, engine.spec.name)


def _remember(run: Run, engine: Engine, facts: dict[str, Any]) -> None:
    run.state.dropped[engine.alias] = facts
    if not run.dry:
        state.write_private(_facts_file(run, engine), json.dumps(facts, indent=2))


def _recall(run: Run, engine: Engine) -> dict[str, Any]:
    if engine.alias in run.state.dropped:
        return run.state.dropped[engine.alias]
    path = _facts_file(run, engine)
    return json.loads(path.read_text()) if path.is_file() else {}


@step(
    "drop-db",
    destructive=True,
    drops_database=True,
    options={
        "if_exists": Option(bool, True, "a missing database is fine"),
        "force": Option(bool, False, "end other sessions on the database first"),
    },
)
def drop_db(run: Run, if_exists: bool, force: bool) -> None:
    """Drop the environment's database (SQLite: the file and its side files)."""
    # Our own connection would keep the database open (or in use).
    run.django.close_connections()
    for alias in run.aliases:
        engine = run.engine(alias)
        run.out.info(f"database {alias}: {engine.describe()}")
        facts: dict[str, Any] = {}
        if engine.exists():
            facts = engine.remember_before_drop()
            if facts:
                run.out.info("remembered for create-db: " + ", ".join(f"{k}={v}" for k, v in facts.items()))
            _remember(run, engine, facts)
        engine.drop(run.actions, if_exists=if_exists, force=force)
        faults.point("inside:drop-db")  # dropped, not yet re-created
        run.state.dropped.setdefault(alias, facts)


@step("create-db", creates_only=True, options={"if_not_exists": Option(bool, False, "an existing database is fine")})
def create_db(run: Run, if_not_exists: bool) -> None:
    """Create the environment's database, empty (with the owner, encoding and extensions it had)."""
    for alias in run.aliases:
        engine = run.engine(alias)
        engine.recreate_with(_recall(run, engine))
        run.out.info(f"database {alias}: {engine.describe()}")
        # In a dry run the database is still there after drop-db.
        exists = False if run.dry and alias in run.state.dropped else None
        engine.create(run.actions, if_not_exists=if_not_exists, exists=exists)
        if not run.dry:
            _facts_file(run, engine).unlink(missing_ok=True)
