"""makemigrations, migrate, migrate-fake-initial, and the project's own commands."""
from __future__ import annotations

import os
import shlex
import signal
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from invoke import Context, Local, Result

from djreset import state
from djreset.bridge import data_migrations, graphs, history, writer
from djreset.bridge.packages import migration_files, migration_names
from djreset.errors import ConfigError, Interrupted, Refused, StepFailed, suggest
from djreset.registry import step
from djreset.run import Run

if TYPE_CHECKING:
    from djreset.config import StepCall


def _show(run: Run, output: str) -> None:
    for line in output.splitlines():
        if line.strip():
            run.out.info(line.rstrip())


def _names_on_disk(run: Run) -> dict[str, set[str]]:
    found = {}
    for label in run.apps:
        package = run.django.migrations_package(label)
        found[label] = migration_names(migration_files(package.directory)) if package.directory else set()
    return found


@dataclass
class Pending:
    """What clean-files rendered and kept, for makemigrations to write."""

    files: list[writer.NewFile]
    carries: list[data_migrations.Carry]
    repointed: list[writer.NewFile]
    tag: str


def _pending(run: Run) -> Pending | None:
    """What clean-files left, in this process or saved by an earlier one (None: clean-files did not run)."""
    if run.state.new_files is not None:
        return Pending(run.state.new_files, run.state.carries or [], run.state.repointed, run.state.tag)
    saved = state.load_pending(run.project)
    if saved is None:
        return None
    kept = {label: set(entry.get("kept", ())) for label, entry in state.reset_apps(run.project).items()}
    on_disk = {label: names - kept.get(label, set()) for label, names in _names_on_disk(run).items()}
    on_disk = {label: names for label, names in on_disk.items() if names}
    if on_disk:
        raise StepFailed(f"clean-files saved new migrations in {state.pending_path(run.project)}, but {', '.join(on_disk)} "
                         "still have migration files: run clean-files again, or restore")
    return Pending(
        [writer.NewFile.from_json(item) for item in saved["new"]],
        [data_migrations.Carry.from_json(item) for item in saved["carries"]],
        [writer.NewFile.from_json(item) for item in saved.get("repointed", [])],
        saved.get("tag", ""),
    )


def _detect(run: Run) -> list[writer.NewFile]:
    """What ``makemigrations LABEL...`` would write now, from the files on disk."""
    labels = set(run.apps)
    loader = run.django.loader()
    conflicting = graphs.conflicts(loader)
    if conflicting:
        raise StepFailed(conflicting)
    changes = graphs.autodetect(loader, loader.graph, labels)
    outside = sorted(app for app in changes if app not in labels)
    if outside:
        raise Refused(f"the listed apps' models need new migrations in {', '.join(outside)}, which are not listed: "
                      f"run `manage.py makemigrations {' '.join(outside)}` first, or add them to apps")
    return writer.render({label: changes.get(label, []) for label in run.apps})


def write_carries(run: Run, carries: list[data_migrations.Carry], new_names: dict[str, list[str]], tag: str) -> dict[str, list[str]]:
    """Write each kept data migration where data_migrations.place puts it."""
    written: dict[str, list[str]] = {label: [] for label in new_names}
    for placement in data_migrations.place(carries, new_names, tag):
        carry = placement.carry
        package = run.django.migrations_package(carry.app)
        path = (package.directory or run.project.root / carry.app / "migrations") / f"{placement.name}.py"
        source = data_migrations.render(placement)
        run.actions.do(
            f"write {run.relative(path)} (carried from {carry.origin}, operations {list(carry.keep)})",
            lambda p=path, s=source: p.write_text(s),
        )
        written[carry.app].append(placement.name)
    return written


def _write_new(run: Run, files: list[writer.NewFile]) -> dict[str, list[str]]:
    """Write the new migrations (Django's writer, then its formatters); label → names."""
    names: dict[str, list[str]] = {label: [] for label in run.apps}
    for file in files:
        run.actions.do(f"write {run.relative(file.path)} ({file.operations} operations)", lambda f=file: writer.write(f))
        names[file.app].append(file.name)
    if not run.dry:
        writer.run_formatters(file.path for file in files)
    return names


def _repoint(run: Run, files: list[writer.NewFile]) -> None:
    """A partial reset: the kept migrations now depend on the new ones."""
    for file in files:
        run.actions.do(f"re-point {run.relative(file.path)} at the new migrations", lambda f=file: writer.write(f))


@step("makemigrations", changes_schema=False)
def makemigrations(run: Run) -> None:
    """Write the listed apps' migrations with Django's own autodetector and writer, as makemigrations
    would (after clean-files: the new migrations, each replacing old ones, plus the kept data
    migrations); the project's own makemigrations command is not run."""
    labels = list(run.apps)
    run.django.forget_migration_modules(labels)
    pending = _pending(run)
    new_names = _write_new(run, pending.files if pending is not None else _detect(run))
    carried = write_carries(run, pending.carries, new_names, pending.tag) if pending is not None else {}
    _repoint(run, pending.repointed if pending is not None else [])
    run.django.forget_migration_modules(labels)
    run.out.found("written", new_names)
    if run.dry:
        return
    state.forget_pending(run.project)
    written = sum(len(names) for names in new_names.values())
    carried_count = sum(map(len, carried.values()))
    run.out.info(f"wrote {written} migration files" + (f" and carried {carried_count} data migrations" if carried_count else ""))
    # Complete reset-history.json for the apps clean-files emptied.
    replaced = state.reset_apps(run.project)
    for label in labels:
        made = new_names[label] + carried.get(label, [])
        if label in replaced and made:
            state.record_new(run.project, label, sorted(made))


def _migrate(run: Run, alias: str, **options: object) -> None:
    flags = " --fake-initial" if options.get("fake_initial") else ""
    if run.dry:
        run.actions.do(f"run migrate{flags} --database {alias}")
        return
    output = run.django.call_command("migrate", database=alias, interactive=False, verbosity=1, **options)
    # "  Applying auth.0001_initial... OK" (or FAKED): one line per app instead.
    applying = [line.strip() for line in output.splitlines() if line.strip().startswith("Applying")]
    done = [line.split()[1].rstrip(".") for line in applying]
    faked = [line.split()[1].rstrip(".") for line in applying if line.endswith("FAKED")]
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


@step("migrate", changes_data=True)
def migrate(run: Run) -> None:
    """Apply all migrations to the environment's database."""
    for alias in run.aliases:
        _migrate(run, alias)


def _record_soft_applied_initials(run: Run, alias: str) -> None:
    """Record the listed apps' new initial migrations whose tables exist, and their carried data migrations."""
    if run.dry:
        run.actions.do(f"record on {alias} the new initial migrations whose tables exist")
        return
    initials, carried = history.soft_applied_initials(run.django, alias, run.apps)
    for migration in initials:
        key = (migration.app_label, migration.name)
        also = f" and the {len(migration.replaces)} it replaces" if migration.replaces else ""
        run.actions.do(f"record {key[0]}.{key[1]}{also} as applied on {alias} (its tables exist)",
                       lambda m=migration: history.record_applied(run.django, alias, m))
    # A carried data migration already ran here as its origin: running it again would add its rows twice.
    for migration in carried:
        run.actions.do(f"record {migration.app_label}.{migration.name} as applied on {alias} (it ran here as "
                       f"{getattr(migration, data_migrations.CARRIED)})",
                       lambda m=migration: history.record_applied(run.django, alias, m))


@step("migrate-fake-initial", changes_data=True)
def migrate_fake_initial(run: Run) -> None:
    """Mark initial migrations whose tables exist as applied, then migrate the rest."""
    for alias in run.aliases:
        # Record the listed apps' soft-applied initial migrations first:
        # Django checks history consistency before it fakes anything, and
        # admin.0001 (applied) depends on the custom user model's 0001.
        _record_soft_applied_initials(run, alias)
        _migrate(run, alias, fake_initial=True)


def _check_command(run: Run, call: "StepCall") -> None:
    """A management command the project does not have is refused before anything runs."""
    name = shlex.split(call.argument or "")[0]
    known = run.django.command_names()
    if name not in known:
        raise ConfigError(f"manage: no management command {name!r}{suggest(name, known)}", call.where)


@step("manage", argument="a management command, e.g. loaddata seed.json", destructive=True, changes_data=True, check_call=_check_command)
def manage(run: Run, command: str) -> None:
    """Run one of the project's management commands (in this process)."""
    args = shlex.split(command)
    run.actions.do(f"run manage.py {command}", lambda: _show(run, run.django.call_command(*args)))


class StoppingRunner(Local):
    """invoke's local runner, but Ctrl-C or SIGTERM stops the command and then djreset.

    invoke answers an interrupt by writing Ctrl-C to the command's stdin and
    waiting on: a command that reads no stdin runs to its end, and djreset
    would carry on as if nothing happened."""

    interrupt: KeyboardInterrupt | None = None

    def send_interrupt(self, interrupt: KeyboardInterrupt) -> None:
        self.interrupt = interrupt
        try:
            os.kill(self.process.pid, signal.SIGTERM if isinstance(interrupt, Interrupted) else signal.SIGINT)
        except ProcessLookupError:
            pass  # it ended by itself meanwhile

    def run(self, command: str, **kwargs: Any) -> Result | None:
        result = super().run(command, **kwargs)
        if self.interrupt is not None:
            raise self.interrupt  # the runner's rollback and exit code (130, 143) follow
        return result


@step("run", argument="a shell command", destructive=True, changes_data=True)
def run_shell(run: Run, command: str) -> None:
    """Run a shell command in the project root (sees DJANGO_SETTINGS_MODULE and DJRESET_ENV)."""
    if run.dry:
        run.actions.do(f"run {command}")
        return
    config = (run.context or Context()).config.clone()
    config.runners.local = StoppingRunner
    context = Context(config)
    env = {"DJANGO_SETTINGS_MODULE": run.project.settings, "DJRESET_ENV": run.env.name}
    run.out.info(f"$ {command}")
    with context.cd(str(run.project.root)):
        # Its output joins djreset's (stderr under --json, so stdout stays one JSON document).
        result = context.run(command, env=env, warn=True, hide=False, in_stream=False, dry=False, out_stream=run.out.stream)
    if result is None or result.failed:
        code = result.exited if result is not None else "?"
        raise StepFailed(f"`{command}` exited with status {code}")
