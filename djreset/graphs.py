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

    from djreset.inventory import Carry
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
    # Kept data migrations, carried: (migration, runs before the initial one).
    carried: list[tuple["Migration", bool]]


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


def predict(bridge: "DjangoBridge", labels: Iterable[str], carries: Iterable["Carry"] = ()) -> ResetGraph:
    """The graph makemigrations will produce once the listed apps' files are gone,
    with the kept data migrations carried after (or, for extensions, before) it."""
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
    carried = _add_carries(graph, loader, new, carries)
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
    return ResetGraph(graph, new, broken, carried)


def _add_carries(
    graph: "MigrationGraph", loader: "MigrationLoader", new: dict[str, list["Migration"]], carries: Iterable["Carry"]
) -> list[tuple["Migration", bool]]:
    from django.db.migrations import Migration

    from djreset.inventory import carried_name

    added = []
    for carry in carries:
        made = new.get(carry.app) or []
        if not made:
            continue
        old = loader.disk_migrations[(carry.app, carry.migration)]
        existing = [key[1] for key in graph.nodes if key[0] == carry.app]  # the new ones, and carries so far
        number = max(int(name[:4]) for name in existing if name[:4].isdigit()) + 1
        migration = Migration(carried_name(carry, number), carry.app)
        migration.operations = [old.operations[index - 1] for index in carry.keep]
        key = (carry.app, migration.name)
        graph.add_node(key, migration)
        if carry.run_first:
            graph.add_dependency(made[0], (carry.app, made[0].name), key)
        else:
            leaf = graph.leaf_nodes(carry.app)[-1]
            migration.dependencies = [leaf]
            graph.add_dependency(migration, key, leaf)
        added.append((migration, carry.run_first))
    return added


def apply_to_empty(bridge: "DjangoBridge", alias: str, graph: "MigrationGraph", only: set[Key] | None = None) -> None:
    """Run the migrations of ``graph`` (or just ``only``) on the empty database ``alias``."""
    import copy

    from django.db.migrations.executor import MigrationExecutor
    from django.db.migrations.recorder import MigrationRecorder

    # Django's executor, on a copy of the loader we have (its own would read the disk again).
    executor = MigrationExecutor.__new__(MigrationExecutor)
    executor.connection = bridge.connection(alias)
    executor.loader = copy.copy(bridge.loader())
    executor.loader.graph = graph
    executor.loader.applied_migrations = {}
    executor.recorder = MigrationRecorder(executor.connection)
    executor.progress_callback = None
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
    from django.db import router
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
        for model in apps.get_models():
            meta = model._meta
            if meta.managed and not meta.proxy and not meta.swapped and router.allow_migrate_model(alias, model):
                editor.create_model(model)
    run([migration for migration, first in carried if not first])
