"""Migration graphs before the files change: what the reset will produce.

Everything here works in memory on Django's own classes (MigrationLoader,
MigrationGraph, MigrationAutodetector, MigrationExecutor), so djreset can check
and verify a reset before it deletes a single file.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable

from djreset.bridge import data_migrations

if TYPE_CHECKING:
    from django.db.migrations import Migration
    from django.db.migrations.graph import MigrationGraph
    from django.db.migrations.loader import MigrationLoader

    from djreset.bridge import DjangoBridge

Key = tuple[str, str]


@dataclass
class ResetGraph:
    """The listed apps' migrations as they will be after the reset."""

    new: dict[str, list["Migration"]]  # label → its new migrations, in order
    # Migrations outside the listed apps that depend on a listed app's
    # migration the reset removes: (dependent, dependency).
    broken: list[tuple[Key, Key]]
    # Kept data migrations, carried: (migration, runs before the initial ones).
    carried: list[tuple["Migration", bool]]

    def new_names(self) -> dict[str, list[str]]:
        return {label: [migration.name for migration in migrations] for label, migrations in self.new.items()}


def predict(bridge: "DjangoBridge", labels: Iterable[str], carries: Iterable["data_migrations.Carry"] = ()) -> ResetGraph:
    """The migrations makemigrations will write once the listed apps' files are
    gone, with the kept data migrations carried where :func:`data_migrations.place` says."""
    labels = set(labels)
    loader = bridge.loader()
    new = _new_migrations(loader, labels)
    names = {label: [migration.name for migration in migrations] for label, migrations in new.items()}
    carries = list(carries)
    carried = _carried(loader, data_migrations.place(carries, names)) if carries else []
    return ResetGraph(new, _broken(loader, labels, names), carried)


def _graph_without(loader: "MigrationLoader", labels: set[str]) -> "MigrationGraph":
    from django.db.migrations.graph import MigrationGraph

    graph = MigrationGraph()
    kept = {key: migration for key, migration in loader.graph.nodes.items() if key[0] not in labels}
    for key, migration in kept.items():
        graph.add_node(key, migration)
    for key, node in loader.graph.node_map.items():
        if key in kept:
            for parent in node.parents:
                if parent.key in kept:
                    graph.add_dependency(kept[key], key, parent.key)
    return graph


def _new_migrations(loader: "MigrationLoader", labels: set[str]) -> dict[str, list["Migration"]]:
    """What the autodetector writes for the listed apps when they have no migrations."""
    from django.apps import apps
    from django.db.migrations.autodetector import MigrationAutodetector
    from django.db.migrations.questioner import NonInteractiveMigrationQuestioner
    from django.db.migrations.state import ProjectState

    graph = _graph_without(loader, labels)
    from_state = graph.make_state(nodes=graph.leaf_nodes(), at_end=True, real_apps=loader.unmigrated_apps)
    autodetector = MigrationAutodetector(
        from_state,
        ProjectState.from_apps(apps),
        NonInteractiveMigrationQuestioner(specified_apps=labels, dry_run=True),
    )
    changes = autodetector.changes(graph=graph, trim_to_apps=labels, convert_apps=labels)
    return {label: changes.get(label, []) for label in sorted(labels)}


def _broken(loader: "MigrationLoader", labels: set[str], new_names: dict[str, list[str]]) -> list[tuple[Key, Key]]:
    """Outside migrations that name a listed app's node the reset removes."""
    broken = []
    for key, migration in loader.disk_migrations.items():
        if key[0] in labels:
            continue
        for app, name in migration.dependencies:
            if app in labels and name not in ("__first__", "__latest__") and name not in new_names.get(app, ()):
                broken.append((key, (app, name)))
    return broken


def _carried(loader: "MigrationLoader", placements: list["data_migrations.Placement"]) -> list[tuple["Migration", bool]]:
    """The carried migrations, in memory, with the kept operations only."""
    from django.db.migrations import Migration

    carried = []
    for placement in placements:
        carry = placement.carry
        old = loader.disk_migrations[(carry.app, carry.migration)]
        migration = Migration(placement.name, carry.app)
        migration.operations = [old.operations[index - 1] for index in carry.keep]
        migration.dependencies = [(dependency.app, dependency.name) for dependency in placement.dependencies]
        migration.run_before = list(placement.run_before)
        carried.append((migration, carry.run_first))
    return carried


def apply_to_empty(bridge: "DjangoBridge", alias: str, graph: "MigrationGraph", only: set[Key] | None = None) -> None:
    """Run the migrations of ``graph`` (or just ``only``) on the empty database ``alias``."""
    # Django's executor, on a copy of the loader we have (its own would read the disk again).
    loader = copy.copy(bridge.loader())
    loader.graph = graph
    loader.applied_migrations = {}
    executor = bridge.executor(alias, loader)
    targets = graph.leaf_nodes()
    plan = executor.migration_plan(targets, clean_start=True)
    if only is not None:
        plan = [(migration, backwards) for migration, backwards in plan if (migration.app_label, migration.name) in only]
    executor.migrate(targets, plan=plan)


def create_from_models(bridge: "DjangoBridge", alias: str, carried: list[tuple["Migration", bool]]) -> None:
    """What a reset's new migrations build, without replaying them one by one.

    After a reset the new migrations are initial ones that create the
    project's current models (check makes sure models and migrations agree),
    so the schema editor creates those models directly, as Django's test
    runner does with MIGRATE=False; kept data migrations run around them.
    """
    from django.apps import apps
    from django.db.migrations.state import ProjectState

    connection = bridge.connection(alias)
    state = ProjectState.from_apps(apps)

    def run(migrations: list["Migration"]) -> None:
        nonlocal state
        for migration in migrations:
            with connection.schema_editor(atomic=migration.atomic) as editor:
                state = migration.apply(state, editor)

    run([migration for migration, first in carried if first])
    with connection.schema_editor() as editor:
        for model in bridge.migratable_models(alias, auto_created=False):
            editor.create_model(model)
    run([migration for migration, first in carried if not first])
