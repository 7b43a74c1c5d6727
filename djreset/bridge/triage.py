"""A first decision for each operation makemigrations cannot re-create, with its reason.

``djreset init`` drafts ``data_migrations`` from these; the user reads the
reasons and accepts or changes them.  The rule, in order:

* it changes the migration state (SeparateDatabaseAndState, RunSQL with
  state_operations): drop, the new initial migration already holds it;
* ``elidable=True``: drop, as Django's squashmigrations does, unless it creates
  database objects (indexes, extensions): a fresh database needs those;
* django.contrib.postgres operations (extensions, collations): keep;
* RunPython / RunSQL that create rows or database objects: keep; those that
  only update or delete existing rows: drop (a fresh database has none); a
  RunPython that calls a helper imported from the project or a third party
  (whose writes its source does not show): keep;
* anything else (custom operations, code it cannot read): keep, to be safe.

Reading code is a guess made from its source (which calls it makes); check
then runs every kept one on a scratch database, and init drops any that fails.
"""
from __future__ import annotations

import ast
import re
import sys
from typing import TYPE_CHECKING, Any, Callable, Iterable

if TYPE_CHECKING:
    from django.db.migrations.loader import MigrationLoader

    from djreset.config import DataMigrationPolicy

from djreset.bridge.data_migrations import (
    called_name, carries_state, code_module_text, code_module_tree, code_nodes, code_strings, find, sql_texts,
)
from djreset.errors import ConfigError

CREATES = {"create", "bulk_create", "get_or_create", "update_or_create", "create_user", "create_superuser", "loaddata"}
CHANGES = {"update", "delete", "save", "bulk_update"}
SQL_CREATES = {"CREATE", "ALTER", "INSERT", "GRANT", "COMMENT", "DO", "REPLACE", "COPY", "SELECT"}
SQL_CHANGES = {"UPDATE", "DELETE", "TRUNCATE"}
KEEP_ROWS = "creates rows ({}): a fresh database needs them"
ONLY_CHANGES = "only updates or deletes existing rows: nothing to do on a fresh database"


def suggest(operation: Any) -> tuple[str, str]:
    """("keep" or "drop", why) for one operation makemigrations cannot re-create."""
    from django.db.migrations.operations import RunPython, RunSQL

    if carries_state(operation):
        if _creates_beside_state(operation):
            return "drop", ("its state is part of the new initial migration, but not what its database side creates by SQL or "
                            "code (a table of its own, triggers...): write that into a RunSQL migration of your own")
        return "drop", "what it did is part of the new initial migration"
    if getattr(operation, "elidable", False):
        if _creates_objects(operation):
            return "keep", "elidable=True, but creates database objects (indexes, extensions...): a fresh database needs them"
        return "drop", "elidable=True: Django drops it when squashing, so may a reset"
    if type(operation).__name__ == "ValidateConstraint":
        return "drop", "validates a constraint: the new initial migration creates it valid"
    if type(operation).__module__.startswith("django.contrib.postgres"):
        return "keep", "creates what tables may need (extension, collation...): a fresh database needs it"
    if isinstance(operation, RunPython):
        return _python(operation.code)
    if isinstance(operation, RunSQL):
        return _sql(operation.sql)
    return "keep", "a custom operation: kept to be safe, review it"


def _creates_beside_state(operation: Any) -> bool:
    """Does a state-changing operation also create objects its state does not describe
    (a RunSQL or RunPython among SeparateDatabaseAndState's database operations)?"""
    from django.db.migrations.operations import RunPython, RunSQL

    if isinstance(operation, RunSQL):
        return any(BESIDE_STATE.search(str(text)) for text in sql_texts(operation.sql))
    inner = getattr(operation, "database_operations", ())
    return any(BESIDE_STATE.search(str(text)) for op in inner if isinstance(op, RunSQL) for text in sql_texts(op.sql)) or any(
        BESIDE_STATE.search(text) for op in inner if isinstance(op, RunPython) for text in code_strings(op.code))


# Objects no model state describes (a plain table or index the state side mirrors is in the new initial migration).
BESIDE_STATE = re.compile(r"\bCREATE\s+(?:OR\s+REPLACE\s+)?(?:VIRTUAL\s+TABLE|TRIGGER|(?:MATERIALIZED\s+)?VIEW|FUNCTION|PROCEDURE|RULE|POLICY)\b", re.I)


def _creates_objects(operation: Any) -> bool:
    """Does it create indexes, extensions, tables...?  RunSQL by its statements; RunPython
    when it executes SQL and its module holds a CREATE statement (often a format string)."""
    from django.db.migrations.operations import RunPython, RunSQL

    if isinstance(operation, RunSQL):
        return any(CREATE_OBJECT.search(str(text)) for text in sql_texts(operation.sql))
    if isinstance(operation, RunPython):
        calls, _ = _calls(operation.code)
        return "execute" in calls and bool(CREATE_OBJECT.search(code_module_text(operation.code)))
    return False


CREATE_OBJECT = re.compile(r"\bCREATE\s+(?!TEMP(?:ORARY)?\b)[A-Z]", re.I)  # any object that outlives the session


def _python(code: Callable[..., Any]) -> tuple[str, str]:
    from django.db.migrations.operations import RunPython

    if code is RunPython.noop:
        return "drop", "does nothing going forward"
    calls, models_made = _calls(code)
    made = sorted(calls & CREATES)
    if made or (models_made and "save" in calls):
        return "keep", KEEP_ROWS.format(", ".join(made) or "save")
    foreign = sorted(calls & _imported_helpers(code))
    if foreign:
        return "keep", f"calls {', '.join(foreign)} from another module, which may create rows: kept to be safe, review it"
    if calls & CHANGES:
        return "drop", ONLY_CHANGES
    return "keep", "could not tell what it writes: kept to be safe, review it"


def _imported_helpers(code: Callable[..., Any]) -> set[str]:
    """Names the code's module imports from the project or a third party (not Django, not the
    standard library): functions whose writes the code's own source does not show."""
    module = code_module_tree(code)
    names: set[str] = set()
    for node in module.body if module is not None else ():
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            top = node.module.split(".")[0]
            if top != "django" and top not in sys.stdlib_module_names:
                names |= {alias.asname or alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):  # relative: the project's own
            names |= {alias.asname or alias.name for alias in node.names}
    return names


def _calls(code: Callable[..., Any]) -> tuple[set[str], bool]:
    """Names of the methods ``code`` calls (and the module functions it calls),
    and whether it instantiates a model it got from apps.get_model."""
    calls, models, made = set(), set(), False
    for node in code_nodes(code) or ():
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and called_name(node.value) == "get_model":
            models.update(target.id for target in node.targets if isinstance(target, ast.Name))
        if isinstance(node, ast.Constant) and node.value == "loaddata":
            calls.add("loaddata")
        if isinstance(node, ast.Call):
            name = called_name(node)
            calls.add(name)
            made = made or (isinstance(node.func, ast.Name) and name in models)
    return calls, made


def models_used(operation: Any) -> set[str] | None:
    """"app.model" of each ``apps.get_model(...)`` a RunPython's code makes, or
    None when that cannot be told (RunSQL, code it cannot read, names not literal)."""
    from django.db.migrations.operations import RunPython

    nodes = code_nodes(operation.code) if isinstance(operation, RunPython) else None
    found: set[str] = set()
    for node in nodes or ():
        if isinstance(node, ast.Call) and called_name(node) == "get_model":
            parts = [arg.value for arg in node.args if isinstance(arg, ast.Constant) and isinstance(arg.value, str)]
            if not parts or len(parts) != len(node.args):
                return None
            found.add(".".join(parts).lower())
    return found or None


def _sql(sql: Any) -> tuple[str, str]:
    from django.db.migrations.operations import RunSQL

    if sql == RunSQL.noop:
        return "drop", "does nothing going forward"
    texts = sql_texts(sql)
    words = {match.upper() for text in texts for match in re.findall(r"(?:^|;)\s*([A-Za-z]+)", str(text))}
    if words & SQL_CREATES:
        return "keep", "creates database objects or rows: a fresh database needs them"
    if words and words <= SQL_CHANGES:
        return "drop", ONLY_CHANGES
    return "keep", "could not tell what it does: kept to be safe, review it"


def refuse_unknown_decisions(
    loader: "MigrationLoader", labels: Iterable[str], policy: "DataMigrationPolicy", reset_apps: dict[str, dict[str, list[str]]]
) -> None:
    """A decision naming no migration on disk, or an operation its migration
    does not have, is a typo that would be ignored: bad input (exit 2).

    Names a reset replaced (reset-history.json, the new migrations' replaces)
    still count: reset.yaml keeps its decisions after a reset.  So do the
    migrations of apps not listed now (a reset of some apps keeps the others' decisions)."""
    operations = find(loader, labels)
    known = {op.origin for op in operations} | {op.key for op in operations}  # carried ones keep their first name
    known |= {f"{app}.{name}" for app, entry in reset_apps.items() for name in entry.get("replaced", [])}
    known |= {f"{app}.{name}" for migration in loader.disk_migrations.values() for app, name in migration.replaces or ()}
    with_migrations = {app for app, _ in loader.disk_migrations}
    for entry in (*policy.keep, *policy.drop):
        name, _, number = entry.partition(":")
        app, _, migration_name = name.partition(".")
        migration = loader.disk_migrations.get((app, migration_name))
        if entry in known or (migration is None and name in known):
            continue  # a migration gone with a reset: its operations cannot be counted any more
        if migration is None:
            why = f"{app} has no migration {migration_name!r} on disk" if app in with_migrations else f"no installed app {app!r} has migrations"
            raise ConfigError(f"{entry} names no migration: {why}", policy.where.get(entry))
        if number and not 1 <= int(number) <= len(migration.operations):
            raise ConfigError(f"{entry}: {name} has {len(migration.operations)} operation(s), numbered from 1", policy.where.get(entry))
