"""Migration graphs before the files change: what the reset will produce.

Everything here works in memory on Django's own classes (MigrationLoader,
MigrationGraph, MigrationAutodetector, MigrationExecutor), so djreset can check
and verify a reset before it deletes a single file.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable

if TYPE_CHECKING:
    from django.db.migrations import Migration
    from django.db.migrations.graph import MigrationGraph
    from django.db.migrations.loader import MigrationLoader

    from djreset.bridge import DjangoBridge

Key = tuple[str, str]


@dataclass
class ResetGraph:
    """The migration graph as it will be after the reset of ``labels``."""

    graph: "MigrationGraph"
    new: dict[str, list["Migration"]]  # label → its new migrations, in order
    # Migrations outside the listed apps that depend on a listed app's
    # migration the reset removes: (dependent, dependency).
    broken: list[tuple[Key, Key]]


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


def predict(bridge: "DjangoBridge", labels: Iterable[str]) -> ResetGraph:
    """The graph makemigrations will produce once the listed apps' files are gone."""
    from django.apps import apps
    from django.db.migrations.autodetector import MigrationAutodetector
    from django.db.migrations.questioner import NonInteractiveMigrationQuestioner
    from django.db.migrations.state import ProjectState

    labels = set(labels)
    loader = bridge.loader()
    graph = _graph_without(loader, labels)
    from_state = graph.make_state(nodes=graph.leaf_nodes(), at_end=True, real_apps=loader.unmigrated_apps)
    autodetector = MigrationAutodetector(
        from_state,
        ProjectState.from_apps(apps),
        NonInteractiveMigrationQuestioner(specified_apps=labels, dry_run=True),
    )
    changes = autodetector.changes(graph=graph, trim_to_apps=labels, convert_apps=labels)
    new = {label: changes.get(label, []) for label in sorted(labels)}

    for label, migrations in new.items():
        for migration in migrations:
            graph.add_node((label, migration.name), migration)
    roots = {label: (label, migrations[0].name) for label, migrations in new.items() if migrations}
    leaves = {label: (label, migrations[-1].name) for label, migrations in new.items() if migrations}

    def resolve(dependency: Key) -> Key | None:
        app, name = dependency[0], dependency[1]
        if app == "__setting__":
            # swappable_dependency(settings.AUTH_USER_MODEL), not yet written to a file
            from django.conf import settings

            app, name = getattr(settings, name).split(".")[0], "__first__"  # "app_label.Model"
        if app in labels:
            if name == "__first__":
                return roots.get(app)
            if name == "__latest__":
                return leaves.get(app)
            return (app, name) if (app, name) in graph.nodes else None
        if name in ("__first__", "__latest__"):
            nodes = graph.root_nodes(app) if name == "__first__" else graph.leaf_nodes(app)
            return nodes[0] if nodes else None
        return (app, name)

    for label, migrations in new.items():
        for migration in migrations:
            for dependency in migration.dependencies:
                parent = resolve(dependency)
                if parent is not None:
                    graph.add_dependency(migration, (label, migration.name), parent)
    broken = []
    # Outside migrations that named a listed app's node: still there after the reset?
    for key, migration in loader.disk_migrations.items():
        if key[0] in labels:
            continue
        for dependency in migration.dependencies:
            if dependency[0] in labels:
                parent = resolve(dependency)
                if parent is None and dependency[1] not in ("__first__", "__latest__"):
                    broken.append((key, (dependency[0], dependency[1])))
                elif parent is not None and key in graph.nodes:
                    graph.add_dependency(migration, key, parent, skip_validation=True)
    return ResetGraph(graph, new, broken)


def apply_to_empty(bridge: "DjangoBridge", alias: str, graph: "MigrationGraph", only: set[Key] | None = None) -> None:
    """Run the migrations of ``graph`` (or just ``only``) on the empty database ``alias``."""
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(bridge.connection(alias))
    executor.loader.graph = graph
    executor.loader.applied_migrations = {}
    targets = graph.leaf_nodes()
    plan = executor.migration_plan(targets, clean_start=True)
    if only is not None:
        plan = [(migration, backwards) for migration, backwards in plan if (migration.app_label, migration.name) in only]
    executor.migrate(targets, plan=plan)
