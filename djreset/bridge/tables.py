"""Tables a fresh database gets after a reset, where a model moved between a listed app and one that is not.

Moving a model between apps the Django way keeps its table: the app it leaves
deletes it from the state only, the app it joins creates it in the state only
(``SeparateDatabaseAndState``), and the table stays what the first app's
migration created.  A reset rewrites only the listed apps, so on a fresh
database built from the new files:

* a model that moved *out of* a listed app has no table (its old migration,
  the only one that created it, is gone), and
* a model that moved *into* a listed app gets its table twice (the new
  initial migration creates it, and so does the unlisted app's old migration).

The scratch database djreset compares creates the models directly, so it
cannot show either; this reads the migrations' operations instead.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, Iterator

if TYPE_CHECKING:
    from django.db.migrations.loader import MigrationLoader

Key = tuple[str, str]


def moved_between(loader: "MigrationLoader", labels: Iterable[str]) -> list[str]:
    """One line for each table a fresh database would lack or create twice after the reset."""
    from django.apps import apps

    labels = set(labels)
    listed_old = {table: key for key, table, real in _created(loader, labels, inside=True) if real}
    current = {
        model._meta.db_table.lower(): model
        for model in apps.get_models()
        if model._meta.managed and not model._meta.proxy and not model._meta.swapped
    }
    problems = []
    for key, table, real in _created(loader, labels, inside=False):
        model = current.get(table)
        if model is None:
            continue
        if not real and model._meta.app_label not in labels and table in listed_old:
            origin = listed_old[table]
            problems.append(f"{key[0]}.{model.__name__} uses the table {table}, which only {origin[0]}.{origin[1]} creates (the model moved "
                            f"out of {origin[0]} by SeparateDatabaseAndState): a fresh database would lack it; add {key[0]!r} to apps")
        if real and model._meta.app_label in labels and not _dropped_later(loader, key, table):
            problems.append(f"{model._meta.app_label}.{model.__name__}'s table {table} is also created by {key[0]}.{key[1]}, which the "
                            f"reset keeps (the model moved into {model._meta.app_label}): a fresh database would create it twice; "
                            f"add {key[0]!r} to apps")
    return list(dict.fromkeys(problems))


def _created(loader: "MigrationLoader", labels: set[str], inside: bool) -> Iterator[tuple[Key, str, bool]]:
    """(migration, table, really made) for each CreateModel (or AlterModelTable: the usual move
    renames the table) of the listed apps' (``inside``) or the other apps' migrations: really
    when it is a database operation, not state only."""
    for key, migration in sorted(loader.disk_migrations.items()):
        if (key[0] in labels) != inside:
            continue
        for operation, real in _operations(migration.operations, real=True):
            table = _table(key[0], operation)
            if table:
                yield key, table, real


def _operations(operations: Iterable[Any], real: bool) -> Iterator[tuple[Any, bool]]:
    """Every operation, with whether it reaches the database (SeparateDatabaseAndState's state side does not)."""
    from django.db.migrations.operations import SeparateDatabaseAndState

    for operation in operations:
        if isinstance(operation, SeparateDatabaseAndState):
            yield from _operations(operation.database_operations, real)
            yield from _operations(operation.state_operations, False)
        else:
            yield operation, real


def _table(app: str, operation: Any) -> str | None:
    """The table a CreateModel makes, or an AlterModelTable renames to (its db_table, else
    Django's default name), or None."""
    from django.conf import settings
    from django.db.migrations.operations import AlterModelTable, CreateModel

    if isinstance(operation, AlterModelTable):
        return str(operation.table or f"{app}_{operation.name}").lower()
    if not isinstance(operation, CreateModel) or operation.options.get("proxy") or operation.options.get("managed") is False:
        return None
    swapped_for = getattr(settings, operation.options.get("swappable") or "", None)
    if swapped_for and str(swapped_for).lower() != f"{app}.{operation.name}".lower():
        return None  # swapped out (auth.User under a custom user model): migrate creates no table for it
    return str(operation.options.get("db_table") or f"{app}_{operation.name}").lower()


def _dropped_later(loader: "MigrationLoader", key: Key, table: str) -> bool:
    """Does the app that made ``table`` in migration ``key`` drop or rename that model's
    table in a later migration (a real DeleteModel or AlterModelTable), freeing the name?"""
    from django.db.migrations.operations import AlterModelTable, DeleteModel

    names = {operation.name.lower() for operation, real in _operations(loader.disk_migrations[key].operations, True)
             if real and _table(key[0], operation) == table}
    return any(
        isinstance(operation, (DeleteModel, AlterModelTable)) and real and operation.name.lower() in names
        for (app, name), migration in loader.disk_migrations.items() if app == key[0] and name > key[1]
        for operation, real in _operations(migration.operations, True)
    )
