"""The deploy guard: a database system check that stops ``migrate`` on a database
that applied only part of the old history of a reset app.

Django cannot use a replacing migration whose replaced migrations are partly
applied and no longer on disk: it drops it from the graph, so ``migrate``
silently leaves the rest of that app out, and ``migrate --check`` passes.
``migrate`` runs database checks before it changes anything, so this check
stops it first, naming the app, the migrations the database never applied,
and what to do.  It reads only the migration files and django_migrations (no
reset.yaml), and has nothing to say once ``retire`` removed the replaces lists.
"""
from __future__ import annotations

from typing import Any

from djreset.bridge import rollout

HINT = ("Deploy the release before the reset and run migrate there first, then this one. "
        "`djreset status` shows every database.")


def partial_history(app_configs: Any = None, databases: Any = None, **kwargs: Any) -> list[Any]:
    """djreset.E001 for every reset app of which a database applied only part of the old history."""
    if not databases:
        return []  # `manage.py check` without --database: no connection
    from django.core.checks import Error
    from django.db import connections
    from django.db.migrations.loader import MigrationLoader
    from django.db.migrations.recorder import MigrationRecorder

    loader = MigrationLoader(None, ignore_no_migrations=True, load=False)
    loader.load_disk()
    resets = rollout.from_files(loader)
    if not resets:
        return []
    errors = []
    for alias in databases:
        recorder = MigrationRecorder(connections[alias])
        if not recorder.has_table():
            continue
        rows: dict[str, set[str]] = {}
        for app, name in recorder.applied_migrations():
            rows.setdefault(app, set()).add(name)
        where = f" (database {alias!r})" if len(databases) > 1 else ""
        errors += [Error(f"{line}{where}", hint=HINT, id="djreset.E001") for line in rollout.unsafe(rollout.standings(resets, rows))]
    return errors
