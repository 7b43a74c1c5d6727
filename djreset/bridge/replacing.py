"""The new migrations replace the old ones: their names, ``replaces``, partial resets, retiring.

A reset writes each listed app's new migrations under names no old migration
has, and gives each one a ``replaces`` list, as Django's squashed migrations
have.  On a database where the old migrations are applied, plain ``manage.py
migrate`` then counts the new ones as applied and records them; on an empty
database it runs them.  Every old migration is replaced by exactly one new
one (unless a foreign-key cycle makes more new migrations than the app had:
:func:`assign`), so Django also remaps other apps' dependencies on old
migrations while ``replaces`` is there.  ``retire`` removes the lists (and the old rows) once
every environment has recorded the new migrations.

Names: Django's autodetector numbers the new migrations and names them
``0001_reset_20261125`` (what ``makemigrations --name reset_20261125`` does);
carried data migrations follow as ``0002_reset_20261125_seed_categories``.
The date says which reset wrote a migration; a second reset on the same day
gets ``reset_20261125_2``, so a name is never one an old migration had.

A partial reset (``keep_recent``, ``cutoff``) replaces each app's migrations up
to its cutoff; the later ones stay as they are, their dependencies re-pointed
at the app's new history.
"""
from __future__ import annotations

import ast
import copy
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Mapping

from djreset.bridge.data_migrations import migration_file
from djreset.bridge.rollout import RESET_NAME
from djreset.bridge.writer import NewFile
from djreset.errors import ConfigError, StepFailed, suggest

if TYPE_CHECKING:
    from django.db.migrations import Migration
    from django.db.migrations.loader import MigrationLoader

    from djreset.config import PartialReset

Key = tuple[str, str]


def reset_tag(loader: "MigrationLoader", labels: Iterable[str], now: datetime | None = None) -> str:
    """``reset_YYYYMMDD``, with a counter when an old migration of the listed apps already has it."""
    labels = set(labels)
    names = [name for app, name in loader.disk_migrations if app in labels]
    base = f"reset_{(now or datetime.now(timezone.utc)):%Y%m%d}"
    tag, counter = base, 1
    while any(tag in name for name in names):
        counter += 1
        tag = f"{base}_{counter}"
    return tag


# -- which old migrations a reset replaces ----------------------------------------------


@dataclass(frozen=True)
class Split:
    """One listed app's old migrations, in the order migrate applies them: replaced, then kept."""

    replaced: tuple[str, ...]
    kept: tuple[str, ...] = ()
    # The project's own squashes no new migration replaces (no other app names them): a database that ran
    # what a squash replaced has not always recorded the squash itself.
    unreplaced: tuple[str, ...] = ()


def app_history(loader: "MigrationLoader", label: str) -> list[str]:
    """An app's migrations in the order migrate applies them."""
    graph = loader.graph
    ordered: dict[str, None] = {}
    for leaf in graph.leaf_nodes(label):
        for app, name in graph.forwards_plan(leaf):
            if app == label:
                ordered.setdefault(name)
    return list(ordered)


def split(loader: "MigrationLoader", labels: Iterable[str], partial: "PartialReset") -> tuple[dict[str, Split], list[str]]:
    """Per listed app, what the reset replaces and keeps; and why that cannot be (one line each)."""
    splits: dict[str, Split] = {}
    problems: list[str] = []
    named_outside = _named_outside(loader, labels)
    for label in labels:
        history = app_history(loader, label)
        cut = partial.cutoff.get(label)
        if cut is not None:
            if cut not in history:
                raise ConfigError(f"{label} has no migration {cut!r}{_why_not(loader, label, cut, history)}", partial.cutoff_where.get(label))
            before = set(loader.graph.forwards_plan((label, cut)))
            replaced = [name for name in history if (label, name) in before]
        else:
            replaced = history[: max(len(history) - partial.keep_recent, 0)]
        kept = [name for name in history if name not in replaced]
        replaced = with_squashed(loader, label, replaced)
        unreplaced = [name for name in replaced if getattr(loader.disk_migrations.get((label, name)), "replaces", None)
                      and (label, name) not in named_outside]
        if kept and not replaced:
            problems.append(f"{label}: keep_recent {partial.keep_recent} keeps all {len(history)} of its migrations, so nothing "
                            f"of it would be reset: lower keep_recent, or name a cutoff for {label}")
        splits[label] = Split(tuple(replaced), tuple(kept), tuple(unreplaced))
    return splits, problems + _kept_too_early(loader, splits)


def _why_not(loader: "MigrationLoader", label: str, cut: str, history: list[str]) -> str:
    """A cutoff that is not a node of the graph: a squash replaces it, or a typo."""
    squashes = sorted(name for (app, name), m in loader.disk_migrations.items() if app == label and (label, cut) in (m.replaces or ()))
    if squashes:
        return f" in its graph: the squash {squashes[0]} replaces it; name {squashes[0]} (or a later migration) as the cutoff"
    return suggest(cut, history)


def references(loader: "MigrationLoader", outside: Iterable[str] | None = None) -> list[tuple[Key, "Migration", Key, str]]:
    """What each migration on disk names (of apps not in ``outside``, when given):
    (its key, the migration, the key it names, "dependencies" or "run_before")."""
    skip = set(outside or ())
    return [
        (key, migration, tuple(target), where)
        for key, migration in sorted(loader.disk_migrations.items())
        if key[0] not in skip
        for where, targets in (("dependencies", migration.dependencies), ("run_before", migration.run_before))
        for target in targets
    ]


def _named_outside(loader: "MigrationLoader", labels: Iterable[str]) -> set[Key]:
    """Migrations that apps outside ``labels`` depend on or run before."""
    return {target for _, _, target, _ in references(loader, labels)}


def with_squashed(loader: "MigrationLoader", label: str, replaced: list[str]) -> list[str]:
    """The replaced names with the project's own squashes filled in.

    While a squash keeps ``replaces``, the graph holds either the squash or the
    migrations it replaces (whichever Django can use); every database that ran
    the squash recorded the originals.  They go right before their squash (the
    last name stays a graph node, a partial reset's cutoff); which names the
    new migrations' ``replaces`` lists take is :func:`assign`'s business
    (``Split.unreplaced``)."""
    names = list(replaced)
    for name in replaced:
        squash = loader.disk_migrations.get((label, name))
        for app, original in getattr(squash, "replaces", None) or ():
            if app == label and original not in names:
                names.insert(names.index(name), original)
    squashes = sorted((name, migration) for (app, name), migration in loader.disk_migrations.items() if app == label and migration.replaces)
    for name, migration in squashes:
        inside = [original for owner, original in migration.replaces if owner == label]
        if name not in names and inside and set(inside) <= set(names):
            names.insert(names.index(inside[0]), name)  # a squash the graph set aside (partly applied)
    return names


def _kept_too_early(loader: "MigrationLoader", splits: Mapping[str, Split]) -> list[str]:
    """A replaced migration may not depend on a kept one: the new initial
    migration is the state at the cutoff, which would then include it."""
    kept = {(label, name) for label, s in splits.items() for name in s.kept}
    problems = []
    for label, s in splits.items():
        for name in s.replaced:
            node = loader.graph.node_map.get((label, name))  # a squashed original is not in the graph
            for parent in sorted(parent.key for parent in (node.parents if node else ())):
                if parent in kept:
                    problems.append(
                        f"{label}.{name} is before the cutoff of {label} but depends on {parent[0]}.{parent[1]}, which the "
                        f"reset keeps: name a cutoff for {parent[0]} at {parent[1]} or later, or one for {label} before {name}"
                    )
    return problems


def earlier_resets(loader: "MigrationLoader", labels: Iterable[str], ours: Mapping[str, Iterable[str]]) -> list[str]:
    """Listed apps' migrations an earlier reset wrote that still replace the history
    before it: retire that reset first.  (A squash of the project's own is old history:
    the reset replaces it with what it replaces, :func:`with_squashed`.)"""
    return [
        f"{app}.{name} still replaces {len(migration.replaces)} migration(s) of an earlier reset, not retired: "
        f"run `djreset retire` in every environment first (`djreset status` says when), then reset again"
        for (app, name), migration in sorted(loader.disk_migrations.items())
        if app in set(labels) and migration.replaces and (name in set(ours.get(app, ())) or RESET_NAME.search(name))
    ]


def assign(new: Mapping[str, list["Migration"]], carried_origins: set[Key], splits: Mapping[str, Split],
           outside: Iterable[tuple[Key, "Migration", Key, str]] = ()) -> None:
    """Give each new migration the old ones it replaces.

    A carried data migration replaces its origin (``data_migrations.place``);
    the app's other replaced migrations go, in order, one to each new migration
    but the last, which takes the rest: each new one replaces at least one (so a
    deployed database counts it as applied), and other apps' dependencies on
    late migrations are remapped to the app's last new one.  ``outside``: what
    unlisted migrations name, as :func:`references` gives it.
    """
    for label, made in new.items():
        left = [name for name in splits[label].replaced if (label, name) not in carried_origins and name not in splits[label].unreplaced]
        if not made or not left:  # nothing to replace: an app that had no migrations
            continue
        if len(left) < len(made):
            _share_last(label, made, left, outside)
            continue
        for migration, name in zip(made[:-1], left[: len(made) - 1], strict=True):
            migration.replaces = [(label, name)]
        made[-1].replaces = [(label, name) for name in left[len(made) - 1:]]


def _share_last(label: str, made: list["Migration"], left: list[str], outside: Iterable[tuple[Key, "Migration", Key, str]]) -> None:
    """More new migrations than old ones left (a foreign-key cycle split the app):
    the new ones from the last old one's turn on all replace it, as squash tools'
    "replaces all" does, so a deployed database still counts each applied.  Django
    remaps an unlisted migration that named the shared one to any of them, so the
    last new one runs before its dependents and the first sharer after what had
    to run before it: a fresh database still builds in order."""
    first = len(left) - 1
    for migration, name in zip(made[:first], left[:first], strict=True):
        migration.replaces = [(label, name)]
    shared = (label, left[-1])
    for migration in made[first:]:
        migration.replaces = [shared]
    named = [(key, where) for key, _, target, where in outside if target == shared]
    made[-1].run_before = [key for key, where in named if where == "dependencies"]
    made[first].dependencies += [key for key, where in named if where == "run_before"]


# -- kept migrations of a partial reset ------------------------------------------------------


def repoint_map(splits: Mapping[str, Split], last_new: Mapping[str, str]) -> dict[Key, Key]:
    """Each replaced migration → the app's last new one: where kept migrations now depend."""
    return {
        (label, name): (label, last_new[label])
        for label, s in splits.items()
        if label in last_new and s.kept
        for name in s.replaced
    }


def repointed(loader: "MigrationLoader", splits: Mapping[str, Split], mapping: Mapping[Key, Key]) -> list["Migration"]:
    """The kept migrations as they will load, their dependencies on replaced ones re-pointed."""
    found = []
    for label, s in splits.items():
        for name in s.kept:
            migration = copy.copy(loader.disk_migrations[(label, name)])
            migration.dependencies = [mapping.get(tuple(dep), dep) for dep in migration.dependencies]
            migration.run_before = [mapping.get(tuple(key), key) for key in migration.run_before]
            found.append(migration)
    return found


def repointed_files(kept: Iterable["Migration"], mapping: Mapping[Key, Key]) -> list[NewFile]:
    """The kept migrations' files, edited to depend on the new history (only those that change)."""
    files = []
    for migration in kept:
        path = migration_file(migration)
        if path.suffix != ".py":
            continue
        source = path.read_text(encoding="utf-8")
        edited = repoint_source(source, mapping)
        if edited != source:
            files.append(NewFile(migration.app_label, migration.name, path, edited, len(migration.operations)))
    return files


def _migration_class(tree: ast.Module) -> ast.ClassDef | None:
    return next((node for node in tree.body if isinstance(node, ast.ClassDef) and node.name == "Migration"), None)


def _assignment(cls: ast.ClassDef, name: str) -> ast.Assign | None:
    for statement in cls.body:
        if isinstance(statement, ast.Assign) and any(getattr(target, "id", None) == name for target in statement.targets):
            return statement
    return None


def _offsets(source: str) -> list[int]:
    offsets = [0]
    for line in source.splitlines(keepends=True):
        offsets.append(offsets[-1] + len(line))
    return offsets


def repoint_source(source: str, mapping: Mapping[Key, Key]) -> str:
    """A migration file's source with every ``(app, name)`` of its dependencies and
    run_before that ``mapping`` names changed to the new name (quotes and layout kept)."""
    cls = _migration_class(ast.parse(source))
    if cls is None:
        return source
    offsets = _offsets(source)
    edits = []
    for attribute in ("dependencies", "run_before"):
        statement = _assignment(cls, attribute)
        if statement is None or not isinstance(statement.value, (ast.List, ast.Tuple)):
            continue
        for element in statement.value.elts:
            key = _literal_key(element)
            if key in mapping:
                target = element.elts[1]
                start = offsets[target.lineno - 1] + target.col_offset
                end = offsets[target.end_lineno - 1] + target.end_col_offset
                quote = source[start]
                edits.append((start, end, f"{quote}{mapping[key][1]}{quote}"))
    for start, end, text in sorted(edits, reverse=True):
        source = source[:start] + text + source[end:]
    return source


def _literal_key(node: ast.AST) -> Key | None:
    if isinstance(node, (ast.Tuple, ast.List)) and len(node.elts) == 2:
        values = [getattr(element, "value", None) for element in node.elts]
        if all(isinstance(element, ast.Constant) and isinstance(value, str) for element, value in zip(node.elts, values, strict=True)):
            return (values[0], values[1])
    return None


# -- retiring: the replaces lists go --------------------------------------------------------


def without_replaces(source: str) -> str | None:
    """The source with its ``replaces = [...]`` statement removed (None: it has none)."""
    cls = _migration_class(ast.parse(source))
    statement = _assignment(cls, "replaces") if cls is not None else None
    if statement is None:
        return None
    lines = source.splitlines(keepends=True)
    first, last = statement.lineno - 1, statement.end_lineno
    # The writer puts a blank line before it, right under the class line: drop that too.
    if first > 0 and not lines[first - 1].strip() and lines[first - 2].lstrip().startswith("class "):
        first -= 1
    return "".join(lines[:first] + lines[last:])


def replaced_by(loader: "MigrationLoader", labels: Iterable[str]) -> dict[Key, Key]:
    """Old migration → the new one of a listed app that replaces it."""
    labels = set(labels)
    found: dict[Key, Key] = {}
    for key, migration in sorted(loader.replacements.items()):  # an old one several replace: the last of them
        if key[0] in labels and RESET_NAME.search(key[1]):  # the project's own squashes stay Django's business
            found.update((tuple(old), key) for old in migration.replaces)
    return found


def stale_references(loader: "MigrationLoader", old: Mapping[Key, Key]) -> list[str]:
    """Migrations (of apps not reset) that still name a replaced migration: once
    ``replaces`` is gone Django cannot load them.  One line each, with the edit."""
    return [
        f"{migration_file(migration)}: {key[0]}.{key[1]} names {target!r} in {where}, "
        f"which the reset replaced: change it to {old[target]!r}"
        for key, migration, target, where in references(loader)
        if target in old
    ]


def retired_files(loader: "MigrationLoader", labels: Iterable[str]) -> list[tuple[Path, str]]:
    """The listed apps' migration files that carry ``replaces``, each with its source without it."""
    labels = set(labels)
    found = []
    for (app, name), migration in sorted(loader.disk_migrations.items()):
        if app in labels and migration.replaces and RESET_NAME.search(name):  # not the project's own squashes
            path = migration_file(migration)
            edited = without_replaces(path.read_text(encoding="utf-8")) if path.suffix == ".py" else None
            if edited is None:
                raise StepFailed(f"{path}: {app}.{name} has replaces, but not as a `replaces = [...]` line djreset can remove; remove it by hand")
            found.append((path, edited))
    return found
