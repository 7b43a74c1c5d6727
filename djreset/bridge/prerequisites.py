"""What must run before the new migrations: kept extensions and collations, and
the old migrations' own dependencies on apps the reset leaves alone.

A kept CreateExtension or CreateCollation (or RunSQL doing only that) runs
before the first new migration of every listed app, in a carried migration of
its own (``data_migrations.place``).  That migration replaces the one it came
from, so Django points whatever depended on that one at it; and, running
first, it is its app's first migration, which ``__first__`` and a swappable
dependency name.  Both are wrong when the old migration also created the
app's models (Django's documented place for HStoreExtension() is before the
CreateModel in 0001_initial), or when anything names the app's first
migration: they would run before the models exist.  Then the operations go,
first, into the app's first new migration instead, which replaces the old one
as any other does, and every other listed app's first new migration depends
on it.  Where that would make a cycle (the app's first migration depends on
another listed app), they stay in a migration of their own.

A dependency written by hand on an unlisted app's migration (its RunSQL makes
a table, an extension or a function the app's migrations use) is not one the
autodetector can see: the app's first new migration keeps it.  So does a
carried migration keep its origin's ``run_before``, where that makes no cycle.
"""
from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Iterable

from djreset.bridge import data_migrations, replacing

if TYPE_CHECKING:
    from django.db.migrations import Migration
    from django.db.migrations.loader import MigrationLoader

Key = tuple[str, str]


def inline(
    loader: "MigrationLoader", labels: set[str], new: dict[str, list["Migration"]], carries: Iterable["data_migrations.Carry"]
) -> tuple[list["data_migrations.Carry"], dict[Key, dict[int, str]]]:
    """Move the carries that must go into their app's first new migration there
    (the Migration objects in ``new`` change); the carries left, and per first
    migration the position of each operation moved in (1-based) → its origin."""
    firsts = {label: made[0] for label, made in new.items() if made}
    named_first = _apps_named_first(loader, labels, new)
    moved: dict[str, list[tuple["Migration", str]]] = {}
    left = []
    for carry in carries:
        origin = loader.disk_migrations.get((carry.app, carry.migration))
        needed = carry.run_first and carry.app in firsts and (carry.app in named_first or _makes_models(origin, carry.keep))
        if not needed or _depends_on_other_listed(new, firsts[carry.app]):
            left.append(carry)
            continue
        moved.setdefault(carry.app, []).extend((origin.operations[index - 1], carry.origin) for index in carry.keep)
    inlined: dict[Key, dict[int, str]] = {}
    for label, operations in moved.items():
        first = firsts[label]
        first.operations = [operation for operation, _ in operations] + list(first.operations)
        inlined[(label, first.name)] = {number: origin for number, (_, origin) in enumerate(operations, 1)}
        setattr(first, data_migrations.INLINED, inlined[(label, first.name)])
        for other, other_first in firsts.items():
            if other != label and (label, first.name) not in other_first.dependencies:
                other_first.dependencies = [*other_first.dependencies, (label, first.name)]
    return left, inlined


def _makes_models(origin: "Migration | None", keep: Iterable[int]) -> bool:
    """Did the old migration also do what goes into the new initial migrations?"""
    keep = set(keep)
    return origin is not None and any(
        index not in keep and (data_migrations.special_kind(operation) is None or data_migrations.carries_state(operation))
        for index, operation in enumerate(origin.operations, 1)
    )


def _apps_named_first(loader: "MigrationLoader", labels: set[str], new: dict[str, list["Migration"]]) -> set[str]:
    """Listed apps whose first migration something names after the reset: an unlisted
    app's ``(app, "__first__")`` or swappable dependency, or a new migration's swappable one."""
    found = {target[0] for _, _, target, _ in replacing.references(loader, labels) if target[1] == "__first__"}
    for made in new.values():
        for migration in made:
            found |= {_depended_on(dep)[0] for dep in migration.dependencies if dep[0] == "__setting__"}
    return found & labels


def _depended_on(dependency: tuple[str, str]) -> tuple[str, str]:
    """A new migration's dependency as a key: the autodetector's ``("__setting__",
    "AUTH_USER_MODEL")`` is the swappable model's app, from its first migration."""
    from django.conf import settings

    if dependency[0] == "__setting__":
        return getattr(settings, dependency[1]).split(".")[0], "__first__"
    return dependency[0], dependency[1]


def _depends_on_other_listed(new: dict[str, list["Migration"]], first: "Migration") -> bool:
    """Does ``first`` run after a new migration of another listed app (which will depend on it)?"""
    by_key = {(label, migration.name): migration for label, made in new.items() for migration in made}
    firsts = {label: made[0] for label, made in new.items() if made}
    seen, todo = set(), [first]
    while todo:
        for dependency in todo.pop().dependencies:
            app, name = _depended_on(dependency)
            target = by_key.get((app, name)) or (firsts.get(app) if name == "__first__" else None)
            if target is None or (app, target.name) in seen:
                continue
            if app != first.app_label:
                return True
            seen.add((app, target.name))
            todo.append(target)
    return False


def head(migration: "Migration") -> "Migration | None":
    """The operations a reset moved into ``migration`` (at its head), as a migration of
    their own that builds a scratch database runs first; None if it has none."""
    from django.db.migrations import Migration

    moved = getattr(migration, data_migrations.INLINED, None) or {}
    if not moved:
        return None
    found = Migration(migration.name, migration.app_label)
    found.operations = list(migration.operations[: len(moved)])
    return found


def keep_outside_dependencies(loader: "MigrationLoader", labels: set[str], new: dict[str, list["Migration"]], replaced: dict[str, Iterable[str]]) -> None:
    """Give each listed app's first new migration the dependencies its replaced
    migrations had on unlisted apps (the latest per app), except one whose own
    history runs through a listed app (after the reset that would be a cycle)."""
    for label, made in new.items():
        if not made:
            continue
        targets = {
            tuple(dependency)
            for name in replaced.get(label, ())
            for dependency in getattr(loader.disk_migrations.get((label, name)), "dependencies", ())
            if dependency[0] not in labels and dependency[0] != "__setting__" and not getattr(dependency, "setting", None)
        }
        usable = [target for target in targets if target in loader.graph.nodes and not _runs_through(loader, target, labels)]
        latest = [t for t in usable if not any(t != other and t in loader.graph.forwards_plan(other) for other in usable if other[0] == t[0])]
        first = made[0]
        first.dependencies = [*first.dependencies, *[target for target in sorted(latest) if target not in first.dependencies]]


def _runs_through(loader: "MigrationLoader", key: Key, labels: set[str]) -> bool:
    return any(app in labels for app, _ in loader.graph.forwards_plan(key))


def keep_run_before(new: dict[str, list["Migration"]], carries: Iterable["data_migrations.Carry"]) -> list["data_migrations.Carry"]:
    """Each carry with the ``run_before`` of its origin that still holds after the reset: on an
    unlisted app's migration, or on a listed app (its first new migration) that the carry does
    not itself come after (its own app, or any app its dependencies lead to: a cycle)."""
    reaches = _listed_reach(new)
    kept = []
    for carry in carries:
        after = {carry.app} | reaches.get(carry.app, set())
        for app, _, _ in carry.dependencies:
            after |= {app} | reaches.get(app, set())
        targets = tuple(key for key in carry.run_before if key[0] not in new or key[0] not in after)
        kept.append(replace(carry, run_before=targets) if targets != carry.run_before else carry)
    return kept


def _listed_reach(new: dict[str, list["Migration"]]) -> dict[str, set[str]]:
    """Per listed app, the listed apps its new migrations depend on, directly or not."""
    direct = {
        label: {_depended_on(dep)[0] for migration in made for dep in migration.dependencies} & set(new) - {label}
        for label, made in new.items()
    }
    reach = {}
    for label in direct:
        seen, todo = set(), list(direct[label])
        while todo:
            app = todo.pop()
            if app not in seen:
                seen.add(app)
                todo.extend(direct.get(app, ()))
        reach[label] = seen
    return reach
