"""drop-db and create-db: the whole database, through its engine."""
from __future__ import annotations

from djreset.registry import Option, step
from djreset.run import Run


@step(
    "drop-db",
    destructive=True,
    options={
        "if_exists": Option(bool, True, "a missing database is fine"),
        "force": Option(bool, False, "end other sessions on the database first"),
    },
)
def drop_db(run: Run, if_exists: bool, force: bool) -> None:
    """Drop the environment's database (SQLite: the file and its side files)."""
    # Our own connection would keep the database open (or in use).
    run.django.close_connections()
    remembered = run.state.setdefault("dropped", {})
    for alias in run.aliases:
        engine = run.engine(alias)
        run.out.info(f"database {alias}: {engine.describe()}")
        if engine.exists():
            remembered[alias] = engine.remember_before_drop()
        engine.drop(run.actions, if_exists=if_exists, force=force)
        run.state.setdefault("dropped_aliases", set()).add(alias)


@step("create-db", options={"if_not_exists": Option(bool, False, "an existing database is fine")})
def create_db(run: Run, if_not_exists: bool) -> None:
    """Create the environment's database, empty."""
    remembered = run.state.get("dropped", {})
    for alias in run.aliases:
        engine = run.engine(alias)
        engine.recreate_with(remembered.get(alias, {}))
        run.out.info(f"database {alias}: {engine.describe()}")
        # In a dry run the database is still there after drop-db.
        exists = False if run.dry and alias in run.state.get("dropped_aliases", ()) else None
        engine.create(run.actions, if_not_exists=if_not_exists, exists=exists)
