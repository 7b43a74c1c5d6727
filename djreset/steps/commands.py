"""makemigrations, migrate, migrate-fake-initial, and the project's own commands."""
from __future__ import annotations

import json
import shlex

from djreset import graphs, inventory, marker
from djreset.errors import StepFailed
from djreset.registry import step
from djreset.run import Run
from djreset.steps import history
from djreset.steps.files import carries_file, migration_files


def _show(run: Run, output: str) -> None:
    for line in output.splitlines():
        if line.strip():
            run.out.info(line.rstrip())


def _files_by_app(run: Run) -> dict[str, set[str]]:
    found = {}
    for label in run.apps:
        package = run.django.migrations_package(label)
        found[label] = {str(p) for p in migration_files(package.directory)} if package.directory else set()
    return found


def _pending_carries(run: Run) -> list[inventory.Carry]:
    if "carries" in run.state:
        return run.state["carries"]
    path = carries_file(run)
    return [inventory.Carry.from_json(item) for item in json.loads(path.read_text())] if path.is_file() else []


def _dependency(run: Run, app: str, name: str, setting: str | None, leaves: dict[str, str]) -> str:
    if app in leaves:  # a listed app: its old nodes are gone, depend on its new ones
        return repr((app, leaves[app]))
    if setting:
        return f"migrations.swappable_dependency(settings.{setting})"
    return repr((app, name))


def write_carries(run: Run, new_names: dict[str, list[str]]) -> dict[str, list[str]]:
    """Write each kept data migration after its app's new initial migration(s)."""
    carries = _pending_carries(run)
    leaves = {label: names[-1] for label, names in new_names.items() if names}
    written: dict[str, list[str]] = {label: [] for label in new_names}
    for carry in carries:
        names = new_names.get(carry.app) or []
        if not names:
            raise StepFailed(f"{carry.origin}: kept, but {carry.app} got no new migration to follow")
        number = max(int(n[:4]) for n in names + written[carry.app] if n[:4].isdigit()) + 1
        name = inventory.carried_name(carry, number)
        own_leaf = (written[carry.app] or names)[-1]
        others = [_dependency(run, app, dep, setting, leaves) for app, dep, setting in carry.dependencies if app != carry.app]
        if carry.run_first:
            dependencies, run_before = others, [repr((carry.app, names[0]))]
        else:
            dependencies, run_before = [repr((carry.app, own_leaf)), *others], []
        package = run.django.migrations_package(carry.app)
        folder = package.directory or run.project.root / carry.app / "migrations"
        path = folder / f"{name}.py"
        source = inventory.render(carry, list(dict.fromkeys(dependencies)), run_before)
        run.actions.do(f"write {run.relative(path)} (carried from {carry.origin}, operations {list(carry.keep)})", lambda p=path, s=source: p.write_text(s))
        if not carry.run_first:
            written[carry.app].append(name)
        else:
            written[carry.app].insert(0, name)
    if not run.dry:
        carries_file(run).unlink(missing_ok=True)
    return written


@step("makemigrations")
def makemigrations(run: Run) -> None:
    """Write the listed apps' migrations (after clean-files: one initial migration each, plus kept data migrations)."""
    labels = list(run.apps)
    run.django.forget_migration_modules(labels)
    if run.dry:
        if run.state.get("files_cleaned"):
            # The old files are still on disk in a dry run; show what
            # makemigrations will write once they are gone.
            predicted = graphs.predict(run.django, labels).new
            for label, migrations in predicted.items():
                package = run.django.migrations_package(label)
                folder = run.relative(package.directory) if package.directory else f"{label}/migrations"
                for migration in migrations:
                    run.actions.do(f"write {folder}/{migration.name}.py ({len(migration.operations)} operations)")
            write_carries(run, {label: [m.name for m in migrations] for label, migrations in predicted.items()})
        else:
            run.actions.do(f"run makemigrations {' '.join(labels)}")
        return
    before = _files_by_app(run)
    _show(run, run.django.call_command("makemigrations", *labels, interactive=False, verbosity=1))
    run.django.forget_migration_modules(labels)
    after = _files_by_app(run)
    new_names = {label: sorted({p.rsplit("/", 1)[-1].split(".")[0] for p in after[label] - before[label]}) for label in labels}
    carried = write_carries(run, new_names)
    run.django.forget_migration_modules(labels)
    written = sum(len(after[label] - before[label]) for label in labels)
    run.out.info(f"wrote {written} migration files" + (f" and carried {sum(map(len, carried.values()))} data migrations" if any(carried.values()) else ""))
    # Complete reset-history.json for the apps clean-files emptied.
    replaced = (marker.load(run.project) or {}).get("apps", {})
    loader = run.django.loader()
    for label in labels:
        if label in replaced and (new_names[label] or carried[label]):
            marker.record_new(run.project, label, sorted({name for app, name in loader.disk_migrations if app == label}))


def _migrate(run: Run, alias: str, **options: object) -> None:
    flags = " --fake-initial" if options.get("fake_initial") else ""
    if run.dry:
        run.actions.do(f"run migrate{flags} --database {alias}")
        return
    output = run.django.call_command("migrate", database=alias, interactive=False, verbosity=1, **options)
    # "  Applying auth.0001_initial... OK" (or FAKED): one line per app instead.
    done = [line.split()[1].rstrip(".") for line in output.splitlines() if line.strip().startswith("Applying")]
    faked = [line.split()[1].rstrip(".") for line in output.splitlines() if line.strip().startswith("Applying") and line.rstrip().endswith("FAKED")]
    if not done:
        run.out.info(f"{alias}: no migrations to apply")
        return
    per_app: dict[str, int] = {}
    for key in done:
        app = key.split(".")[0]
        per_app[app] = per_app.get(app, 0) + 1
    run.out.info(f"{alias}: applied {len(done)} migrations (" + ", ".join(f"{app} {n}" for app, n in per_app.items()) + ")")
    if faked:
        run.out.info(f"{alias}: faked (tables already there): {', '.join(faked)}")


@step("migrate")
def migrate(run: Run) -> None:
    """Apply all migrations to the environment's database."""
    for alias in run.aliases:
        _migrate(run, alias)


@step("migrate-fake-initial")
def migrate_fake_initial(run: Run) -> None:
    """Mark initial migrations whose tables exist as applied, then migrate the rest."""
    for alias in run.aliases:
        # Record the listed apps' soft-applied initial migrations first:
        # Django checks history consistency before it fakes anything, and
        # admin.0001 (applied) depends on the custom user model's 0001.
        history.record_soft_applied_initials(run, alias)
        _migrate(run, alias, fake_initial=True)


@step("manage", argument="a management command, e.g. loaddata seed.json")
def manage(run: Run, command: str) -> None:
    """Run one of the project's management commands (in this process)."""
    args = shlex.split(command)
    run.actions.do(f"run manage.py {command}", lambda: _show(run, run.django.call_command(*args)))


@step("run", argument="a shell command")
def run_shell(run: Run, command: str) -> None:
    """Run a shell command in the project root (sees DJANGO_SETTINGS_MODULE and DJRESET_ENV)."""
    if run.dry:
        run.actions.do(f"run {command}")
        return
    from invoke import Context

    context = run.context or Context()
    env = {"DJANGO_SETTINGS_MODULE": run.project.settings, "DJRESET_ENV": run.env.name}
    run.out.info(f"$ {command}")
    with context.cd(str(run.project.root)):
        result = context.run(command, env=env, warn=True, hide=False, in_stream=False, dry=False)
    if result is None or result.failed:
        code = result.exited if result is not None else "?"
        raise StepFailed(f"`{command}` exited with status {code}")
