"""Data migrations: find what makemigrations cannot re-create, and carry what is kept.

RunPython, RunSQL, SeparateDatabaseAndState, django.contrib.postgres
operations (CreateExtension...) and custom Operation subclasses vanish when
migration files are regenerated.  The inventory lists each with its file and
line; reset.yaml decides (``data_migrations: {keep: [...], drop: [...]}``),
and the kept ones are carried into new migrations, so a fresh database still
gets them.  Where a carried migration goes is decided once, by :func:`place`,
for both the prediction (check, verify, plan) and the files written.
"""
from __future__ import annotations

import ast
import inspect
import re
import sys
import textwrap
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Callable, Iterable, NamedTuple

from djreset.errors import Refused

if TYPE_CHECKING:
    from django.db.migrations.loader import MigrationLoader
    from django.db.migrations.operations.base import Operation

    from djreset.config import DataMigrationPolicy

CARRIED = "djreset_carried_from"  # class attribute marking a carried migration
INLINED = "djreset_inlined_from"  # {position: origin} of kept operations moved into a new migration


@dataclass(frozen=True)
class SpecialOperation:
    app: str
    migration: str  # the migration it lives in now
    origin: str  # "app.migration" it first came from (differs once carried)
    index: int  # 1-based position in operations
    kind: str
    file: Path
    line: int
    prerequisite: bool = False  # creates what tables may use (extension, collation): runs before them

    @property
    def key(self) -> str:
        return f"{self.origin}:{self.index}"

    def to_json(self, root: Path | None, decision: str | None) -> dict[str, Any]:
        return {"operation": self.key, "kind": self.kind, "where": self.describe(root), "decision": decision}

    def describe(self, root: Path | None = None) -> str:
        try:
            where = self.file.relative_to(root) if root else self.file
        except ValueError:
            where = self.file
        return f"{where}:{self.line}: {self.app}.{self.migration} operation {self.index}: {self.kind}"


def special_kind(operation: Any) -> str | None:
    """Why makemigrations cannot re-create ``operation``, or None if it can."""
    from django.db.migrations.operations import RunPython, RunSQL, SeparateDatabaseAndState

    if isinstance(operation, (RunPython, RunSQL, SeparateDatabaseAndState)):
        return type(operation).__name__
    module = type(operation).__module__
    if module.startswith("django.contrib.postgres"):
        return f"{type(operation).__name__} (django.contrib.postgres)"
    if not module.startswith("django.db.migrations.operations"):
        return f"custom operation {module}.{type(operation).__qualname__}"
    return None


def _operation_lines(path: Path) -> list[int]:
    """Line of each element of ``Migration.operations`` in a migration file."""
    for statement in _migration_class(ast.parse(path.read_text(encoding="utf-8"))).body:
        if isinstance(statement, ast.Assign) and any(getattr(t, "id", None) == "operations" for t in statement.targets):
            if isinstance(statement.value, (ast.List, ast.Tuple)):
                return [element.lineno for element in statement.value.elts]
    return []


def _migration_class(tree: ast.Module) -> ast.ClassDef:
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == "Migration":
            return node
    raise Refused("a migration file without a Migration class")


def find(loader: "MigrationLoader", labels: Iterable[str], kept: Iterable[tuple[str, str]] = ()) -> list[SpecialOperation]:
    """Every operation of the listed apps' migrations makemigrations cannot re-create
    (a partial reset's ``kept`` migrations stay as they are: not theirs)."""
    labels, kept = set(labels), set(kept)
    # A squash on disk stands for the migrations it replaces (a new database runs it, not them): their
    # operations are its copies, counted once.
    squashed = {tuple(key) for migration in loader.disk_migrations.values() for key in migration.replaces or ()}
    found = []
    for (app, name), migration in sorted(loader.disk_migrations.items()):
        if app not in labels or (app, name) in kept or (app, name) in squashed:
            continue
        kinds = [(index, special_kind(operation)) for index, operation in enumerate(migration.operations, 1)]
        kinds = [(index, kind) for index, kind in kinds if kind]
        if not kinds:
            continue
        path = migration_file(migration)
        lines = _operation_lines(path) if path.suffix == ".py" else []  # parsed only when needed
        origin = getattr(migration, CARRIED, None) or f"{app}.{name}"
        moved_in = getattr(migration, INLINED, None) or {}
        for index, kind in kinds:
            line = lines[index - 1] if index <= len(lines) else 0
            operation = migration.operations[index - 1]
            found.append(SpecialOperation(app, name, moved_in.get(index, origin), index, kind, path, line, creates_prerequisite(operation)))
    return found


def decision(operation: SpecialOperation, policy: "DataMigrationPolicy") -> str | None:
    for verdict, entries in (("keep", policy.keep), ("drop", policy.drop)):
        if operation.origin in entries or operation.key in entries:
            return verdict
    return None


def undecided_message(operations: list[SpecialOperation], root: Path) -> str:
    listed = "\n".join(f"  {op.describe(root)}" for op in operations)
    origins = sorted({op.origin for op in operations})
    snippet = "data_migrations:\n  keep: [" + ", ".join(origins) + "]   # or drop: [...]; 'app.migration:N' for one operation"
    return (
        f"{len(operations)} operation(s) in the listed apps cannot be re-created by makemigrations:\n{listed}\n"
        f"Say in reset.yaml what to do with each, e.g.\n{snippet}\n(`djreset init --force` drafts every decision with its reason)"
    )


def carries_state(operation: Any) -> bool:
    """Does ``operation`` change the migration state?  Then the new initial
    migration already holds what it did, and carrying it would do it twice
    (also a variant of a model, field or index operation: AddIndexConcurrently...)."""
    from django.db.migrations.operations import RunSQL, SeparateDatabaseAndState
    from django.db.migrations.operations.fields import FieldOperation
    from django.db.migrations.operations.models import IndexOperation, ModelOperation

    return isinstance(operation, (SeparateDatabaseAndState, FieldOperation, ModelOperation, IndexOperation)) or (
        isinstance(operation, RunSQL) and bool(operation.state_operations)
    )


# What a table, column or index may use, and that uses no table: made before any.
# (Not a sequence: OWNED BY names a table.)
PREREQUISITE_SQL = re.compile(
    r"\s*CREATE\s+(OR\s+REPLACE\s+)?(EXTENSION|COLLATION|SCHEMA|TYPE|DOMAIN|TEXT\s+SEARCH)\b", re.I
)


def creates_prerequisite(operation: Any) -> bool:
    """An extension or collation (django.contrib.postgres, or RunSQL doing only
    that): tables of any app may use it, so it runs before the first of them."""
    from django.db.migrations.operations import RunSQL

    if isinstance(operation, RunSQL) and not operation.state_operations:
        statements = [part for text in sql_texts(operation.sql) for part in str(text).split(";") if part.strip()]
        return bool(statements) and all(PREREQUISITE_SQL.match(statement) for statement in statements)
    return _is_postgres(operation, "CreateExtension", "CreateCollation")


def _is_postgres(operation: Any, *names: str) -> bool:
    """Is ``operation`` one of these django.contrib.postgres operations (or a subclass)?
    Imported only for a project that uses them: it needs psycopg."""
    if not type(operation).__module__.startswith("django.contrib.postgres"):
        return False
    from django.contrib.postgres import operations

    return isinstance(operation, tuple(getattr(operations, name) for name in names))


def sql_texts(sql: Any) -> list[Any]:
    """RunSQL's sql: a string, or a list of strings and (sql, params) pairs."""
    return [sql] if isinstance(sql, str) else [item[0] if isinstance(item, (list, tuple)) else item for item in sql]


def extensions_created(loader: "MigrationLoader", labels: Iterable[str]) -> set[str]:
    """PostgreSQL extensions the listed apps' old migrations create: a scratch database
    must get them from the new migrations, not ready-made (also one reset.yaml drops:
    a fresh database would not get it either)."""
    from django.db.migrations.operations import RunPython, RunSQL

    labels = set(labels)
    names: set[str] = set()
    for (app, _), migration in loader.disk_migrations.items():
        for operation in migration.operations if app in labels else ():
            if isinstance(operation, RunSQL):
                names |= {found.lower() for text in sql_texts(operation.sql) for found in EXTENSION_SQL.findall(str(text))}
            elif isinstance(operation, RunPython):  # schema_editor.execute("CREATE EXTENSION ...") in its code
                names |= {found.lower() for text in code_strings(operation.code) for found in EXTENSION_SQL.findall(text)}
            elif _is_postgres(operation, "CreateExtension"):
                names.add(operation.name.lower())
    return names


def migration_file(migration: Any) -> Path:
    """The file a migration the loader read was imported from."""
    return Path(sys.modules[type(migration).__module__].__file__)


def code_module_text(code: Any) -> str:
    """The source of the module a RunPython's function lives in ("" when unreadable)."""
    try:
        return inspect.getsource(inspect.getmodule(code))
    except (OSError, TypeError):
        return ""


def code_module_tree(code: Any) -> ast.Module | None:
    """The parsed module a RunPython's function lives in (None when unreadable), parsed once per module."""
    module = inspect.getmodule(code)
    return _module_tree(module) if module is not None else None


@lru_cache(maxsize=256)
def _module_tree(module: ModuleType) -> ast.Module | None:
    try:
        return ast.parse(inspect.getsource(module))
    except (OSError, TypeError, SyntaxError):
        return None


def code_nodes(code: Callable[..., Any]) -> Iterable[ast.AST] | None:
    """Every syntax node of ``code`` and of the module functions it calls, or None unreadable."""
    module = code_module_tree(code)
    try:
        own = ast.parse(textwrap.dedent(inspect.getsource(code)))
    except (OSError, TypeError, SyntaxError):
        return None
    if module is None:
        return None
    functions = {node.name: node for node in module.body if isinstance(node, ast.FunctionDef)}
    seen, todo, found = set(), [own], []
    while todo:
        for node in ast.walk(todo.pop()):
            found.append(node)
            name = called_name(node) if isinstance(node, ast.Call) else ""
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and name in functions and name not in seen:
                seen.add(name)
                todo.append(functions[name])
    return found


def code_strings(code: Callable[..., Any]) -> list[str]:
    """The string literals ``code`` (and the module functions it calls) holds or names:
    its own, and those of module-level constants it uses (``TRGM = "CREATE ..."``)."""
    nodes = list(code_nodes(code) or ())
    texts = [node.value for node in nodes if isinstance(node, ast.Constant) and isinstance(node.value, str)]
    used = {node.id for node in nodes if isinstance(node, ast.Name)}
    module = code_module_tree(code)
    for statement in module.body if module is not None else ():
        if isinstance(statement, ast.Assign) and any(isinstance(target, ast.Name) and target.id in used for target in statement.targets):
            texts += [node.value for node in ast.walk(statement.value) if isinstance(node, ast.Constant) and isinstance(node.value, str)]
    return texts


def called_name(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


# The name only when it is written out (an f-string's {name} is not one; "IF" never is).
EXTENSION_SQL = re.compile(r'CREATE\s+EXTENSION\s+(?:IF\s+NOT\s+EXISTS\s+)?(?!IF\b)"?([\w-]+)"?', re.I)


def undecidable(loader: "MigrationLoader", operations: list[SpecialOperation], policy: "DataMigrationPolicy") -> list[SpecialOperation]:
    """Kept operations that cannot be carried: those that change the state."""
    return [
        op for op in operations
        if decision(op, policy) == "keep" and carries_state(loader.disk_migrations[(op.app, op.migration)].operations[op.index - 1])
    ]


def undecidable_message(operations: list[SpecialOperation], root: Path | None) -> str:
    listed = "\n".join(f"  {op.describe(root)}" for op in operations)
    return (
        f"{len(operations)} kept operation(s) cannot be carried: their state changes are part of the new initial "
        f"migration, so carrying them would make them twice:\n{listed}\n"
        "Move them to data_migrations.drop (or move their database operations into a RunSQL of their own first)"
    )


def decision_problems(
    loader: "MigrationLoader", labels: Iterable[str], policy: "DataMigrationPolicy", root: Path, kept: Iterable[tuple[str, str]] = ()
) -> tuple[list[SpecialOperation], list[str]]:
    """Every special operation, and every reason the decisions cannot be carried out (all of them, at once)."""
    operations = find(loader, labels, kept)
    problems = []
    undecided = [op for op in operations if decision(op, policy) is None]
    if undecided:
        problems.append(undecided_message(undecided, root))
    stuck = undecidable(loader, operations, policy)
    if stuck:
        problems.append(undecidable_message(stuck, root))
    return operations, problems


def decided(
    loader: "MigrationLoader", labels: Iterable[str], policy: "DataMigrationPolicy", root: Path, kept: Iterable[tuple[str, str]] = ()
) -> tuple[list[SpecialOperation], list["Carry"]]:
    """Every special operation and the carries they make; refuses while one has no decision or cannot be carried."""
    operations, problems = decision_problems(loader, labels, policy, root, kept)
    if problems:
        raise Refused("\n".join(problems))
    return operations, plan_carries(loader, operations, policy)


# -- carrying the kept ones ------------------------------------------------------


@dataclass(frozen=True)
class Carry:
    """A kept data migration, saved before its file is deleted."""

    app: str
    origin: str  # "app.migration" it first came from
    migration: str  # the migration it is carried out of now
    source: str
    keep: tuple[int, ...]  # indexes (1-based) of the kept operations
    run_first: bool  # only extension-like operations: run before the initial migration
    dependencies: tuple[tuple[str, str, str | None], ...]  # (app, name, swappable setting)
    squashed: tuple[tuple[str, str], ...] = ()  # carried out of a squash: the migrations it replaces
    run_before: tuple[tuple[str, str], ...] = ()  # its origin's run_before (old names) that it keeps

    def to_json(self) -> dict[str, Any]:
        return {**self.__dict__, "keep": list(self.keep), "dependencies": [list(d) for d in self.dependencies],
                "squashed": [list(k) for k in self.squashed], "run_before": [list(k) for k in self.run_before]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Carry":
        return cls(**{**data, "keep": tuple(data["keep"]), "dependencies": tuple(tuple(d) for d in data["dependencies"]),
                      "squashed": tuple(tuple(k) for k in data.get("squashed", ())),
                      "run_before": tuple(tuple(k) for k in data.get("run_before", ()))})


def plan_carries(loader: "MigrationLoader", operations: list[SpecialOperation], policy: "DataMigrationPolicy") -> list[Carry]:
    stuck = undecidable(loader, operations, policy)
    if stuck:
        raise Refused(undecidable_message(stuck, None))
    kept: dict[tuple[str, str], list[SpecialOperation]] = {}
    for op in operations:
        if decision(op, policy) == "keep":
            kept.setdefault((op.app, op.migration), []).append(op)
    carries = []
    for (app, name), ops in sorted(kept.items()):
        run_first = all(op.prerequisite for op in ops)
        carries.append(
            Carry(
                app=app,
                origin=ops[0].origin,
                migration=name,
                source=ops[0].file.read_text(encoding="utf-8"),
                keep=tuple(op.index for op in ops),
                run_first=run_first,
                dependencies=_seen_dependencies(loader, (app, name), set(kept), direct_only=run_first),
                squashed=tuple(tuple(key) for key in loader.disk_migrations[(app, name)].replaces or ()),
                run_before=tuple(tuple(key) for key in loader.disk_migrations[(app, name)].run_before),
            )
        )
    return carries


def _seen_dependencies(
    loader: "MigrationLoader", key: tuple[str, str], kept: set[tuple[str, str]], direct_only: bool = False
) -> tuple[tuple[str, str, str | None], ...]:
    """What the migration ``key`` saw of other apps: its direct dependencies, and
    (its code may use any model its ancestry made) every other app's latest
    nodes in its ancestry, and the kept data migrations there; ``place`` points
    them at the migrations there will be after the reset."""
    migration = loader.disk_migrations[key]
    found = [(dep[0], dep[1], _setting_named(getattr(dep, "setting", None))) for dep in migration.dependencies]
    if direct_only or key not in loader.graph.nodes:
        return tuple(found)
    ancestry = set(loader.graph.forwards_plan(key)) - {key}
    for node in sorted(ancestry):
        if node[0] == key[0]:
            continue
        children = loader.graph.node_map[node].children
        latest = not any(child.key[0] == node[0] and child.key in ancestry for child in children)
        if latest or node in kept:
            found.append((node[0], node[1], None))
    return tuple(dict.fromkeys(found))


def _setting_named(value: str | None) -> str | None:
    """The setting a swappable dependency was written with: Django keeps only its
    value (``"auth.User"``); the models that can be swapped name their settings."""
    if not value:
        return None
    from django.apps import apps
    from django.conf import settings

    for model in apps.get_models(include_swapped=True):
        setting = model._meta.swappable
        if setting and getattr(settings, setting, None) == value:
            return setting
    return None  # no longer swappable: the dependency stays a plain (app, "__first__")


def carried_name(carry: Carry, number: int, tag: str = "") -> str:
    """0002_reset_20261125_seed_categories for catalog.0003_seed_categories after
    catalog.0001_reset_20261125 (the reset's tag keeps it apart from every old name)."""
    suffix = re.sub(r"^[0-9]+_", "", carry.origin.split(".", 1)[1])
    return f"{number:04d}_{tag}_{suffix}" if tag else f"{number:04d}_{suffix}"


# -- where carried migrations go: the one rule ------------------------------------------


class Dependency(NamedTuple):
    """A migration dependency: a node, or a swappable model's app (``setting`` set)."""

    app: str
    name: str
    setting: str | None = None

    def source(self) -> str:
        """As written in a migration file."""
        if self.setting:
            return f"migrations.swappable_dependency(settings.{self.setting})"
        return repr((self.app, self.name))


@dataclass(frozen=True)
class Placement:
    """A carried migration's name and place in the new graph."""

    carry: Carry
    name: str
    dependencies: tuple[Dependency, ...]
    run_before: tuple[tuple[str, str], ...] = ()

    @property
    def key(self) -> tuple[str, str]:
        return (self.carry.app, self.name)

    @property
    def replaces(self) -> tuple[tuple[str, str], ...]:
        """A carried migration replaces the one it is carried out of: a deployed database never runs it again.
        Out of a squash, it replaces what the squash replaced: every database that ran the squash recorded
        those, while the squash's own row waits for a migrate run after it arrived."""
        return self.carry.squashed or ((self.carry.app, self.carry.migration),)


def place(carries: Iterable[Carry], new_names: dict[str, list[str]], tag: str = "") -> list[Placement]:
    """Name and place every carried migration, given each listed app's new migrations.

    * A kept data migration follows its app's last new migration; several of
      one app form one chain.  Its other dependencies stay, pointed at the new
      migrations of listed apps (or at their carried migration, if carried).
    * A carry of django.contrib.postgres operations only (CreateExtension,
      CreateCollation...) runs before the first new migration of every listed
      app: any of them may use what it creates.
    * In an app without models (no new migration), the first carried
      migration is the app's first migration.
    * Its name is numbered after the app's new migrations, with the reset's ``tag``;
      it replaces the migration it is carried out of.
    """
    carries = list(carries)
    names = _carried_names(carries, new_names, tag)
    carried_as = {(carry.app, carry.migration): names[carry.origin] for carry in carries}
    placements, previous = [], {}
    for carry in carries:
        chain_key = (carry.app, carry.run_first)
        made = new_names.get(carry.app) or []
        own = previous.get(chain_key) or (made[-1] if made and not carry.run_first else None)
        others = _outside_dependencies(carry, new_names, carried_as)
        dependencies = ([Dependency(carry.app, own)] if own else []) + others
        if carry.run_first:
            run_before = tuple((label, made[0]) for label, made in sorted(new_names.items()) if made)
        else:
            run_before = _kept_run_before(carry, new_names, carried_as)
        placements.append(Placement(carry, names[carry.origin], tuple(dict.fromkeys(dependencies)), run_before))
        previous[chain_key] = names[carry.origin]
    return placements


def _kept_run_before(carry: Carry, new_names: dict[str, list[str]], carried_as: dict[tuple[str, str], str]) -> tuple[tuple[str, str], ...]:
    """Its origin's run_before after the reset: an unlisted app's migration as it is; a
    listed app's carried migration where that is the target, else the app's first new one
    (which replaces the target, or comes before it)."""
    found = []
    for app, name in carry.run_before:
        if app not in new_names:
            found.append((app, name))
        elif (app, name) in carried_as:
            found.append((app, carried_as[(app, name)]))
        elif new_names[app]:
            found.append((app, new_names[app][0]))
    return tuple(dict.fromkeys(found))


def _carried_names(carries: list[Carry], new_names: dict[str, list[str]], tag: str) -> dict[str, str]:
    """origin → the carried migration's name, numbered after the app's new migrations."""
    numbers: dict[str, int] = {}
    names = {}
    for carry in carries:
        made = new_names.get(carry.app) or []
        if carry.app not in numbers:
            numbers[carry.app] = max((int(name[:4]) for name in made if name[:4].isdigit()), default=0)
        numbers[carry.app] += 1
        names[carry.origin] = carried_name(carry, numbers[carry.app], tag)
    return names


def _outside_dependencies(
    carry: Carry, new_names: dict[str, list[str]], carried_as: dict[tuple[str, str], str]
) -> list[Dependency]:
    """The carry's dependencies on other apps, as they will be after the reset: a
    listed app's last new migration, or the latest of its carried ones the origin saw."""
    found: list[Dependency | str] = []  # a listed app's label holds its place until its target is known
    listed: dict[str, str] = {}
    for app, name, setting in carry.dependencies:
        if app == carry.app:
            continue
        if app in new_names:
            if carry.run_first:
                continue  # it runs before every listed app's migrations
            made = new_names[app]
            target = carried_as.get((app, name)) or (made[-1] if made else None)
            # Carried migrations are numbered after the app's new ones, in order.
            if target and target > listed.get(app, ""):
                found += [] if app in listed else [app]
                listed[app] = target
        else:
            found.append(Dependency(app, name, setting))
    return [Dependency(item, listed[item]) if isinstance(item, str) else item for item in found]


def render(placement: Placement) -> str:
    """The carried migration's source: the old module, with only the kept
    operations and new dependencies (helpers, imports and comments kept)."""
    carry = placement.carry
    cls = _migration_class(ast.parse(carry.source))
    offsets = [0]
    for line in carry.source.splitlines(keepends=True):
        offsets.append(offsets[-1] + len(line))
    indent = " " * cls.body[0].col_offset
    header = _carried_header(placement, indent)
    edits: list[tuple[int, int, str]] = []
    operations_at = offsets[cls.body[0].lineno - 1] + cls.body[0].col_offset
    for statement in cls.body:
        name = getattr(statement.targets[0], "id", None) if isinstance(statement, ast.Assign) and len(statement.targets) == 1 else None
        start, end = offsets[statement.lineno - 1] + statement.col_offset, offsets[statement.end_lineno - 1] + statement.end_col_offset
        if name == "dependencies":
            edits.append((start, end, header))
            header = ""
        elif name == "operations":
            kept = [ast.get_source_segment(carry.source, statement.value.elts[i - 1]) for i in carry.keep]
            operations = "operations = [\n" + "".join(f"{indent}    {k},\n" for k in kept) + f"{indent}]"
            edits.append((start, end, operations))
            operations_at = start
        elif name in ("replaces", "initial", "run_before"):
            edits.append((offsets[statement.lineno - 1], offsets[statement.end_lineno], ""))  # the whole lines
    if header:  # the origin had no dependencies: the header goes before its operations
        edits.append((operations_at, operations_at, header + f"\n\n{indent}"))
    source = carry.source
    for start, end, text in sorted(edits, reverse=True):
        source = source[:start] + text + source[end:]
    return source


def unwritable(placement: Placement, kept: list["Operation"], package: str, path: Path) -> str | None:
    """Why the file :func:`render` writes would not hold the operations check and
    verify try (``kept``), or None.  It is run as Django would import it: a
    migration whose class body builds its operations in code (``if
    connection.vendor == ...``) keeps that code, and with it other operations."""
    namespace = {"__name__": f"{package}.{placement.name}", "__package__": package, "__file__": str(path)}
    try:
        exec(compile(render(placement), f"{placement.name}.py", "exec"), namespace)  # the project's own migration, as Django imports it
        written = list(namespace["Migration"].operations)
    except Exception as exc:  # the project's own code: any error is the answer
        return f"does not load as djreset would write it ({type(exc).__name__}: {exc})"
    if [_shape(op) for op in written] != [_shape(op) for op in kept]:
        return (f"would be written with {len(written)} operation(s) ({', '.join(type(op).__name__ for op in written)}), "
                f"not the {len(kept)} kept ({', '.join(type(op).__name__ for op in kept)}): its class builds its operations in code")
    return None


def _shape(operation: "Operation") -> tuple[Any, ...]:
    """What identifies an operation across two imports of its module (functions are new objects)."""
    code = tuple(getattr(getattr(operation, name, None), "__qualname__", None) for name in ("code", "reverse_code"))
    return type(operation).__qualname__, code, repr(getattr(operation, "sql", None)), len(getattr(operation, "database_operations", ()))


def _carried_header(placement: Placement, indent: str) -> str:
    """Where the carried migration comes from, what it replaces, and its place in the graph."""
    carry = placement.carry
    text = f"replaces = [{', '.join(repr(key) for key in placement.replaces)}]\n{indent}"
    text += "dependencies = [\n" + "".join(f"{indent}    {d.source()},\n" for d in placement.dependencies) + f"{indent}]"
    if placement.run_before:
        text += f"\n{indent}run_before = [" + ", ".join(repr(key) for key in placement.run_before) + "]"
    if not re.search(rf"^\s*{CARRIED}\s*=", carry.source, re.M):
        text = f"{CARRIED} = {carry.origin!r}  # carried over by djreset\n{indent}" + text
    return text
