"""Migration graphs before the files change: what the reset will produce.

Everything here works in memory on Django's own classes (MigrationLoader,
MigrationGraph, MigrationAutodetector, MigrationExecutor), so djreset can check
and verify a reset before it deletes a single file.  The graph after the reset
is built by Django's own loader over the migrations it will have (the other
apps' as on disk, the listed apps' new ones, the carried ones), so it fails
exactly where ``migrate`` would: a missing node, a cycle, two leaves in an app.
"""
from __future__ import annotations

import copy
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Callable, Iterable, Iterator

from djreset import state
from djreset.bridge import data_migrations, prerequisites, replacing, tables
from djreset.errors import StepFailed

if TYPE_CHECKING:
    from django.db.backends.base.schema import BaseDatabaseSchemaEditor
    from django.db.migrations import Migration
    from django.db.migrations.graph import MigrationGraph
    from django.db.migrations.loader import MigrationLoader
    from django.db.migrations.state import ProjectState

    from djreset.bridge import DjangoBridge
    from djreset.ui import Progress

Key = tuple[str, str]


def project_state(
    graph: "MigrationGraph", nodes: Iterable[Key], *, at_end: bool = True, real_apps: Iterable[str] | None = None
) -> "ProjectState":
    """``graph.make_state(nodes, at_end, real_apps)``: the same migrations mutating
    the state in the same order.  Django's plan tests membership in a list, which is
    quadratic in the graph (1.6 s for 40 apps of 100 migrations; a set makes it 0.07 s)."""
    from django.db.migrations.state import ProjectState

    nodes = list(nodes)
    if not nodes:
        return ProjectState()
    targets, seen = set(nodes), set()
    state = ProjectState(real_apps=real_apps)
    for node in nodes:
        for key in graph.forwards_plan(node):
            if key not in seen and (at_end or key not in targets):
                seen.add(key)
                state = graph.nodes[key].mutate_state(state, preserve=False)
    return state


@dataclass
class ResetGraph:
    """The listed apps' migrations as they will be after the reset."""

    new: dict[str, list["Migration"]]  # label → its new migrations, in order (with their replaces)
    # Migrations outside the listed apps that name a listed app's migration no
    # new one replaces, or run before a replaced one: (dependent, it, "depends on" / "runs before").
    broken: list[tuple[Key, Key, str]]
    # Kept data migrations, carried: (migration, runs before the initial ones).
    carried: list[tuple["Migration", bool]]
    # What makemigrations would write into apps that are not listed: label → operations.
    outside: dict[str, list[str]] = field(default_factory=dict)
    # Why the graph after the reset would not load or migrate (Django's own words).
    problems: list[str] = field(default_factory=list)
    # Per listed app, the old migrations replaced and (a partial reset) kept.
    splits: dict[str, replacing.Split] = field(default_factory=dict)
    # A partial reset's kept migrations, their dependencies re-pointed (replaced → new).
    kept: list["Migration"] = field(default_factory=list)
    repoint: dict[Key, Key] = field(default_factory=dict)
    tag: str = ""  # in every new migration's name: reset_20261125
    # The kept data migrations carried as migrations of their own (the others went into a first new migration).
    carries: tuple["data_migrations.Carry", ...] = ()
    # First new migrations that kept extensions or collations went into: key → {position: origin}.
    inlined: dict[Key, dict[int, str]] = field(default_factory=dict)

    def new_names(self) -> dict[str, list[str]]:
        return {label: [migration.name for migration in migrations] for label, migrations in self.new.items()}

    def refusals(self) -> list[str]:
        """Why this reset cannot go ahead, one message each, with the fix."""
        found = [
            f"{app}.{name} {how} {target[0]}.{target[1]}, which the reset {'replaces' if how == 'runs before' else 'removes'}: "
            f"add {app!r} to apps"
            for (app, name), target, how in self.broken
        ]
        found += [
            f"the listed apps' models need a new migration in {app}, which is not listed ({'; '.join(operations)}): "
            f"run `manage.py makemigrations {app}` and migrate first, or add {app!r} to apps"
            for app, operations in sorted(self.outside.items())
        ]
        return found + self.problems


def predict(bridge: "DjangoBridge", labels: Iterable[str], carries: Iterable["data_migrations.Carry"] = ()) -> ResetGraph:
    """The migrations the reset will write once the listed apps' old files are
    gone: new names, ``replaces`` lists, the kept data migrations carried where
    :func:`data_migrations.place` says, a partial reset's kept migrations
    re-pointed; and the whole graph after the reset checked as ``migrate`` loads it."""
    labels, carries = set(labels), tuple(carries)
    loader = bridge.loader()
    cached = bridge.predictions.get(carries)
    if cached is not None and cached[0] is loader and cached[1] == labels:
        return cached[2]
    splits, problems = replacing.split(loader, sorted(labels), bridge.project.partial)
    ours = {app: entry.get("new") or () for app, entry in state.reset_apps(bridge.project).items()}
    problems = replacing.earlier_resets(loader, labels, ours) + problems
    tag = replacing.reset_tag(loader, labels)
    new, outside = _new_migrations_once(bridge, loader, labels, splits, tag)
    prerequisites.keep_outside_dependencies(loader, labels, new, {label: split.replaced for label, split in splits.items()})
    # Kept extensions that must go into a first new migration go there; the rest are carried apart.
    separate, inlined = prerequisites.inline(loader, labels, new, prerequisites.keep_run_before(new, carries))
    names = {label: [migration.name for migration in migrations] for label, migrations in new.items()}
    placements = data_migrations.place(separate, names, tag) if separate else []
    replacing.assign(new, {(placement.carry.app, placement.carry.migration) for placement in placements}, splits,
                     replacing.references(loader, labels))
    repoint = replacing.repoint_map(splits, _last_new(names, placements))
    carried = _carried(loader, placements, labels)
    problems += _unwritable(loader, placements, carried) + tables.moved_between(loader, labels)
    reset = ResetGraph(new, _broken(loader, splits, new, carried), carried, outside, splits=splits,
                       kept=replacing.repointed(loader, splits, repoint), repoint=repoint, tag=tag, carries=tuple(separate), inlined=inlined)
    if not reset.broken and not problems:
        problems = graph_problems(loader, labels, reset)
    reset.problems = problems
    bridge.predictions[carries] = (loader, labels, reset)
    return reset


def kept_migrations(bridge: "DjangoBridge", labels: Iterable[str]) -> set[Key]:
    """A partial reset's kept migrations: they stay as they are (their data migrations too)."""
    if not bridge.project.partial:
        return set()
    splits, _ = replacing.split(bridge.loader(), sorted(labels), bridge.project.partial)
    return {(label, name) for label, split in splits.items() for name in split.kept}


def _last_new(names: dict[str, list[str]], placements: list["data_migrations.Placement"]) -> dict[str, str]:
    """Each listed app's leaf after the reset: its last carried migration, else its last new one."""
    last = {label: made[-1] for label, made in names.items() if made}
    for placement in placements:
        if not placement.carry.run_first or placement.carry.app not in last:
            last[placement.carry.app] = placement.name
    return last


def after_reset_loader(loader: "MigrationLoader", labels: set[str], reset: ResetGraph) -> "MigrationLoader":
    """Django's MigrationLoader over the migrations there will be after the reset."""
    from django.db.migrations.loader import MigrationLoader

    migrations = {key: migration for key, migration in loader.disk_migrations.items() if key[0] not in labels}
    for label, made in reset.new.items():
        migrations.update(((label, migration.name), as_written(migration)) for migration in made)
    migrations.update(((migration.app_label, migration.name), migration) for migration, _ in reset.carried)
    migrations.update(((migration.app_label, migration.name), migration) for migration in reset.kept)

    class AfterReset(MigrationLoader):
        def load_disk(self) -> None:  # the files as they will be, not as they are
            self.disk_migrations = migrations
            self.migrated_apps = set(loader.migrated_apps) | labels
            self.unmigrated_apps = set(loader.unmigrated_apps) - labels

    after = AfterReset(None, ignore_no_migrations=True, load=False)
    after.build_graph()
    return after


def as_written(migration: "Migration") -> "Migration":
    """A new migration as its file will load: the autodetector's ("__setting__",
    "AUTH_USER_MODEL") is written as swappable_dependency(settings.AUTH_USER_MODEL)."""
    from django.conf import settings
    from django.db.migrations import swappable_dependency

    loaded = copy.copy(migration)
    loaded.dependencies = [
        swappable_dependency(getattr(settings, dependency[1])) if dependency[0] == "__setting__" else dependency
        for dependency in migration.dependencies
    ]
    return loaded


def graph_problems(loader: "MigrationLoader", labels: set[str], reset: ResetGraph) -> list[str]:
    """What ``migrate`` would stop on after the reset: the graph does not load, or an app has two leaves."""
    from django.db.migrations.exceptions import CircularDependencyError, NodeNotFoundError

    try:
        after = after_reset_loader(loader, labels, reset)
    except (NodeNotFoundError, CircularDependencyError, ValueError) as exc:
        problem = f"the migration graph after the reset would not load: {type(exc).__name__}: {exc}"
        # Django names the cycle's migrations "app.name, ...": an unlisted app in it is the usual fix.
        unlisted = sorted({node.split(".")[0] for node in str(exc).split(", ")} - labels) if isinstance(exc, CircularDependencyError) else []
        if unlisted and all(label in loader.migrated_apps for label in unlisted):
            problem += f" (add {', '.join(unlisted)} to apps: its migrations and the listed apps' depend on each other)"
        return [problem]
    found = conflicts(after)
    return [f"after the reset: {found}"] if found else []


def conflicts(loader: "MigrationLoader") -> str | None:
    """Several leaf nodes in one app, in the words ``migrate`` and ``makemigrations`` use."""
    found = loader.detect_conflicts()
    if not found:
        return None
    names = "; ".join(f"{', '.join(sorted(names))} in {app}" for app, names in sorted(found.items()))
    return f"Conflicting migrations detected; multiple leaf nodes in the migration graph: ({names})"


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


def _new_migrations_once(
    bridge: "DjangoBridge", loader: "MigrationLoader", labels: set[str], splits: dict[str, replacing.Split], tag: str
) -> tuple[dict[str, list["Migration"]], dict[str, list[str]]]:
    """The autodetector runs once per set of files, whatever the kept data
    migrations (its optimizer is quadratic in the operations: seconds on a
    large project); each prediction gets its own copies of the migrations."""
    if not (bridge.predicted and bridge.predicted[0] is loader and bridge.predicted[1] == (frozenset(labels), tag)):
        bridge.predicted = (loader, (frozenset(labels), tag), _new_migrations(loader, labels, splits, tag))
    new, outside = bridge.predicted[2]
    return {label: [_copied(migration) for migration in migrations] for label, migrations in new.items()}, outside


def _copied(migration: "Migration") -> "Migration":
    twin = copy.copy(migration)
    twin.operations, twin.dependencies = list(migration.operations), list(migration.dependencies)
    twin.run_before, twin.replaces = list(migration.run_before), list(migration.replaces)
    return twin


def _new_migrations(
    loader: "MigrationLoader", labels: set[str], splits: dict[str, replacing.Split], tag: str
) -> tuple[dict[str, list["Migration"]], dict[str, list[str]]]:
    """What the autodetector writes for the listed apps when they have no
    migrations, named with the reset's tag; and what it would write into other
    apps (label → operations).  An app that keeps recent migrations gets its
    state at the cutoff, not today's models."""
    cuts = [(label, split.replaced[-1]) for label, split in splits.items() if split.kept and split.replaced]
    target = _state_at_cutoffs(loader, cuts) if cuts else None
    changes = autodetect(loader, _graph_without(loader, labels), labels, name=tag, target=target)
    outside = {app: [op.describe() for m in made for op in m.operations] for app, made in changes.items() if app not in labels}
    return {label: changes.get(label, []) for label in sorted(labels)}, outside


def _state_at_cutoffs(loader: "MigrationLoader", cuts: list[Key]) -> "ProjectState":
    """Today's models, except those of the cut apps: as their migrations left them at the cutoff."""
    from django.apps import apps
    from django.db.migrations.state import ProjectState

    today = ProjectState.from_apps(apps)
    at_cut = project_state(loader.graph, cuts, real_apps=loader.unmigrated_apps)
    cut_apps = {label for label, _ in cuts}
    models = {key: model for key, model in today.models.items() if key[0] not in cut_apps}
    models.update({key: model for key, model in at_cut.models.items() if key[0] in cut_apps})
    return ProjectState(models=models, real_apps=today.real_apps)


def autodetect(
    loader: "MigrationLoader", graph: "MigrationGraph", labels: set[str], name: str | None = None, target: "ProjectState | None" = None
) -> dict[str, list["Migration"]]:
    """``makemigrations LABEL... [--name NAME]`` in memory: Django's autodetector
    over ``graph``, towards today's models (or ``target``), named as it names them."""
    from django.apps import apps
    from django.db.migrations.autodetector import MigrationAutodetector
    from django.db.migrations.questioner import NonInteractiveMigrationQuestioner
    from django.db.migrations.state import ProjectState

    from_state = project_state(graph, graph.leaf_nodes(), real_apps=loader.unmigrated_apps)
    autodetector = MigrationAutodetector(
        from_state,
        target or ProjectState.from_apps(apps),
        NonInteractiveMigrationQuestioner(specified_apps=labels, dry_run=True),
    )
    return autodetector.changes(graph=graph, trim_to_apps=labels, convert_apps=labels, migration_name=name)


def _broken(
    loader: "MigrationLoader", splits: dict[str, replacing.Split], new: dict[str, list["Migration"]], carried: list[tuple["Migration", bool]]
) -> list[tuple[Key, Key, str]]:
    """Outside migrations that depend on a listed app's migration no new one
    replaces (Django could not remap it), or run before a replaced one (the
    app's whole new history would have to run after them)."""
    made = [migration for migrations in new.values() for migration in migrations] + [m for m, _ in carried]
    kept = {(label, name) for label, split in splits.items() for name in split.kept}
    covered = {(m.app_label, m.name) for m in made} | {tuple(old) for m in made for old in m.replaces} | kept
    broken = []
    for key, migration in sorted(loader.disk_migrations.items()):
        if key[0] in splits:
            continue
        for app, name in migration.dependencies:
            if app in splits and name not in ("__first__", "__latest__") and (app, name) not in covered:
                broken.append((key, (app, name), "depends on"))
        broken += [(key, (app, name), "runs before") for app, name in migration.run_before if app in splits and (app, name) not in kept]
    return broken


def _carried(loader: "MigrationLoader", placements: list["data_migrations.Placement"], labels: set[str]) -> list[tuple["Migration", bool]]:
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
        setattr(migration, data_migrations.CARRIED, carry.origin)
        migration.replaces = list(placement.replaces)
        carried.append(migration)
    first = before_models(carried, labels)
    return [(migration, (migration.app_label, migration.name) in first) for migration in carried]


def _unwritable(loader: "MigrationLoader", placements: list["data_migrations.Placement"], carried: list[tuple["Migration", bool]]) -> list[str]:
    """Carried migrations whose file, as written, would not be what check and verify try."""
    problems = []
    for placement, (migration, _) in zip(placements, carried, strict=True):
        origin = loader.disk_migrations[(placement.carry.app, placement.carry.migration)]
        path = data_migrations.migration_file(origin).with_name(f"{placement.name}.py")
        why = data_migrations.unwritable(placement, migration.operations, type(origin).__module__.rpartition(".")[0], path)
        if why:
            problems.append(f"the kept data migration {placement.carry.origin} {why}: move it to data_migrations.drop, "
                            f"or write its operations as a plain list")
    return problems


def apply_to_empty(
    bridge: "DjangoBridge", alias: str, graph: "MigrationGraph", only: set[Key] | None = None, progress: "Progress | None" = None,
    failed_at: list[Key] | None = None,
) -> None:
    """Run the migrations of ``graph`` (or just ``only``) on the empty database ``alias``
    (the one that fails goes into ``failed_at``)."""
    # Django's executor, on a copy of the loader we have (its own would read the disk again).
    loader = copy.copy(bridge.loader())
    loader.graph = graph
    loader.applied_migrations = {}
    executor = bridge.executor(alias, loader)
    targets = graph.leaf_nodes()
    plan = executor.migration_plan(targets, clean_start=True)
    if only is not None:
        plan = [(migration, backwards) for migration, backwards in plan if (migration.app_label, migration.name) in only]
    current: list[Key | None] = [None]  # the migration running
    if progress is not None:
        progress.total = len(plan)

    def follow(action: str, migration: "Migration | None" = None, fake: bool = False) -> None:
        if migration is not None:
            current[0] = (migration.app_label, migration.name)
        if progress is not None and action == "apply_success":
            progress.advance()

    executor.progress_callback = follow
    try:
        with _failures_named(lambda: ".".join(current[0]) if current[0] else "the migration plan"):
            executor.migrate(targets, plan=plan)
    except StepFailed:
        if failed_at is not None and current[0] is not None:
            failed_at.append(current[0])
        raise


def replay(bridge: "DjangoBridge", alias: str, graph: "MigrationGraph") -> tuple[Key, str] | None:
    """Migrate the empty database ``alias`` through all of ``graph``, as migrate does a fresh
    one: the migration that fails and why, or None."""
    failed: list[Key] = []
    try:
        apply_to_empty(bridge, alias, graph, failed_at=failed)
    except StepFailed as failure:
        if not failed:
            raise
        return failed[0], str(failure)
    return None


@contextmanager
def _failures_named(what: Callable[[], str]) -> Iterator[None]:
    """A migration that fails on a scratch database is one line naming it, never a traceback."""
    try:
        yield
    except StepFailed:
        raise
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise StepFailed(f"{what()} fails on a scratch database: {type(exc).__name__}: {first}") from exc


def after_reset_graph(bridge: "DjangoBridge", labels: Iterable[str], reset: ResetGraph) -> "MigrationGraph | None":
    """The migration graph after the reset, or None where it would not load (check names why)."""
    from django.db.migrations.exceptions import CircularDependencyError, NodeNotFoundError

    try:
        return after_reset_loader(bridge.loader(), set(labels), reset).graph
    except (NodeNotFoundError, CircularDependencyError, ValueError):
        return None


def _state_at(bridge: "DjangoBridge", graph: "MigrationGraph | None", migration: "Migration") -> "ProjectState":
    """The models a carried migration gets where it runs in ``graph``, exactly as
    ``migrate`` on an empty database gives it: the state every migration before it
    in the whole plan made (its ancestry, and what the plan happened to run earlier)."""
    from django.apps import apps
    from django.db.migrations.state import ProjectState

    key = (migration.app_label, migration.name)
    if graph is None or key not in graph.nodes:
        return ProjectState.from_apps(apps)
    return _plan_states(graph, tuple(sorted(bridge.loader().unmigrated_apps))).before(key)


@lru_cache(maxsize=4)
def _plan_states(graph: "MigrationGraph", real_apps: tuple[str, ...]) -> "_PlanStates":
    return _PlanStates(graph, real_apps)


class _PlanStates:
    """The project state before each migration of ``graph``'s full plan (migrate's order:
    each leaf's forwards plan in turn), built once along the plan."""

    def __init__(self, graph: "MigrationGraph", real_apps: tuple[str, ...]) -> None:
        self.graph, self.real_apps = graph, real_apps
        plan: dict[Key, None] = {}
        for leaf in graph.leaf_nodes():
            plan.update(dict.fromkeys(graph.forwards_plan(leaf)))  # a key seen before keeps its place
        self.plan = list(plan)
        self.index = {key: position for position, key in enumerate(self.plan)}
        self._restart()

    def _restart(self) -> None:
        from django.db.migrations.state import ProjectState

        self.position, self.state = 0, ProjectState(real_apps=set(self.real_apps))

    def before(self, key: Key) -> "ProjectState":
        target = self.index[key]
        if target < self.position:
            self._restart()
        while self.position < target:
            self.state = self.graph.nodes[self.plan[self.position]].mutate_state(self.state, preserve=False)
            self.position += 1
        return self.state.clone()


def _apply(bridge: "DjangoBridge", alias: str, graph: "MigrationGraph | None", migration: "Migration") -> None:
    editor = bridge.connection(alias).schema_editor(atomic=migration.atomic)
    editor.__enter__()
    try:
        migration.apply(_state_at(bridge, graph, migration), editor)
        editor.__exit__(None, None, None)
    except BaseException as exc:
        _abandon(editor, exc)
        raise


def _abandon(editor: "BaseDatabaseSchemaEditor", exc: BaseException) -> None:
    """Leave the schema editor of a migration that failed, its transaction rolled
    back.  Not through the editor's own exit: SQLite's checks constraints inside
    the broken transaction, which raises over the real error and leaves the
    transaction open, so every later migration tried on the connection fails too."""
    connection = editor.connection
    if editor.atomic_migration and connection.in_atomic_block:
        editor.atomic.__exit__(type(exc), exc, exc.__traceback__)
    connection.enable_constraint_checking()


def create_from_models(
    bridge: "DjangoBridge", alias: str, carried: list[tuple["Migration", bool]], graph: "MigrationGraph | None", progress: "Progress | None" = None
) -> None:
    """What a reset's new migrations build, without replaying them one by one.

    After a reset the new migrations are initial ones that create the
    project's current models (check makes sure models and migrations agree),
    so the schema editor creates those models directly, as Django's test
    runner does with MIGRATE=False; kept data migrations run around them,
    each with the state ``graph`` (the migrations after the reset) gives it.
    """
    connection = bridge.connection(alias)

    def run(migrations: list["Migration"]) -> None:
        for migration in migrations:
            origin = getattr(migration, data_migrations.CARRIED, f"{migration.app_label}.{migration.name}")
            with _failures_named(lambda origin=origin: f"the kept data migration {origin}"):
                _apply(bridge, alias, graph, migration)

    run([migration for migration, first in carried if first])
    models = bridge.migratable_models(alias, auto_created=False)
    if progress is not None:
        progress.total = len(models)
    with _failures_named(lambda: "creating the models the new migrations create"):
        with connection.schema_editor() as editor:
            for model in models:
                editor.create_model(model)
                if progress is not None:
                    progress.advance()
            # A constraint this database cannot create (a conditional unique one on
            # MySQL) is queued as None here; Django skips it everywhere else.
            editor.deferred_sql = [statement for statement in editor.deferred_sql if statement is not None]
    run([migration for migration, first in carried if not first])


def try_carried(
    bridge: "DjangoBridge", alias: str, carried: list[tuple["Migration", bool]], graph: "MigrationGraph | None"
) -> list[tuple["Migration", str]]:
    """Build the new schema on the empty database ``alias`` and run every carried
    migration on it, each on its own with the state ``graph`` gives it at its
    place: those that fail, each with its error."""
    failures: list[tuple["Migration", str]] = []

    def attempt(migration: "Migration") -> None:
        try:
            _apply(bridge, alias, graph, migration)
        except Exception as exc:  # the project's own code: any error is the answer
            failures.append((migration, f"{type(exc).__name__}: {exc}".strip()))

    for migration, first in carried:
        if first:
            attempt(migration)
    try:
        create_from_models(bridge, alias, [], graph)
    except Exception as exc:
        if failures:  # a failed extension or collation explains it
            return failures
        raise StepFailed(f"cannot build the new schema on a scratch database: {type(exc).__name__}: {exc}") from None
    for migration, first in carried:
        if not first:
            attempt(migration)
    return failures


def carried_on_disk(loader: "MigrationLoader", labels: Iterable[str]) -> list[tuple["Migration", bool]]:
    """The listed apps' carried migrations on disk, in graph order: (migration, runs before the initial ones)."""
    labels = set(labels)
    order: dict[Key, None] = {}
    for leaf in sorted(loader.graph.leaf_nodes()):
        order.update(dict.fromkeys(loader.graph.forwards_plan(leaf)))
    heads, carried = [], []
    for key in order:
        migration = loader.graph.nodes[key]
        moved_in = prerequisites.head(migration) if key[0] in labels else None
        heads += [(moved_in, True)] if moved_in is not None else []
        carried += [migration] if key[0] in labels and getattr(migration, data_migrations.CARRIED, None) else []
    first = before_models(carried, labels)
    return heads + [(migration, (migration.app_label, migration.name) in first) for migration in carried]


def before_models(carried: list["Migration"], labels: set[str]) -> set[Key]:
    """The carried migrations that run before the listed apps' models (a scratch database
    runs them before creating those): each runs before some of the listed apps' migrations
    and, of those apps, after nothing but such carried migrations (run-first ones chain)."""
    by_key = {(migration.app_label, migration.name): migration for migration in carried}
    found: dict[Key, bool] = {}

    def first(key: Key) -> bool:
        if key not in found:
            found[key] = False  # a cycle is no proof
            migration = by_key[key]
            found[key] = bool(migration.run_before) and all(
                dependency[0] not in labels or (tuple(dependency[:2]) in by_key and first(tuple(dependency[:2])))
                for dependency in migration.dependencies
            )
        return found[key]

    return {key for key in by_key if first(key)}


def carried_in_memory(reset: ResetGraph) -> list[tuple["Migration", bool]]:
    """What a scratch database built for ``reset`` runs besides creating the models: the kept
    operations moved into first new migrations (first), and the carried migrations."""
    heads = [prerequisites.head(made[0]) for made in reset.new.values() if made]
    return [(migration, True) for migration in heads if migration is not None] + reset.carried


def fingerprint(carried: Iterable[tuple["Migration", bool]]) -> tuple:
    """What the kept data migrations do, comparable between memory and disk:
    each migration's name and its operations (code named by its function)."""
    return tuple(sorted(
        (migration.app_label, migration.name, first, tuple(_canonical(operation) for operation in migration.operations))
        for migration, first in carried
    ))


def _canonical(value: object) -> object:
    from django.db.migrations.operations.base import Operation
    from django.db.models import Field

    if isinstance(value, Operation):
        _, args, kwargs = value.deconstruct()
        return (type(value).__name__, _canonical(list(args)), _canonical(kwargs))
    if isinstance(value, Field):
        return _canonical(value.deconstruct()[1:])
    if callable(value) and hasattr(value, "__qualname__"):
        return value.__qualname__  # the carried copy lives in another module
    if isinstance(value, dict):
        return tuple(sorted((key, _canonical(item)) for key, item in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(_canonical(item) for item in value)
    return repr(value)
