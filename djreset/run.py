"""One djreset command's working set: project, environment, Django, engines, output.

:class:`RunState` is everything one step leaves for a later one in the same
process.  What must survive the process (a step run alone, a run cut short)
goes through files instead: see ``state.py``.
"""
from __future__ import annotations

import io
import secrets
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from djreset import engines, state
from djreset.actions import Actions
from djreset.bridge import DjangoBridge, data_migrations, graphs
from djreset.errors import StepFailed
from djreset.ui import Output

if TYPE_CHECKING:
    from invoke import Context

    from djreset.bridge.data_migrations import Carry
    from djreset.bridge.graphs import ResetGraph
    from djreset.bridge.writer import NewFile
    from djreset.config import Environment, Project
    from djreset.registry import StepSpec
    from djreset.state import Backup


@dataclass
class RunState:
    """What one step leaves for a later one in this process."""

    # The journal of a run cut short (restore reads it), or None.
    unfinished: dict[str, Any] | None = None
    # The backup a rollback goes back to: the last one taken before the run changed anything.
    backup: "Backup | None" = None
    # A step that changes the project has started (the runner sets it).
    changes_started: bool = False
    # restore: the backup it puts back and what of it (safety.backup.Scope),
    # chosen before anything runs; and the aliases whose databases it replaces.
    restoring: Any = None
    # restore --forget: the journal of the run the user repaired by hand.
    forgetting: dict[str, Any] | None = None
    replaces: list[str] = field(default_factory=list)
    # The steps after the one running now, and the names of those done.
    steps_ahead: list["StepSpec"] = field(default_factory=list)
    steps_done: list[str] = field(default_factory=list)
    # clean-files ran: from here on a dry run predicts instead of reading the disk.
    files_cleaned: bool = False
    # Kept data migrations, and the new migrations rendered before the old
    # files went: from clean-files to makemigrations.
    carries: list["Carry"] | None = None
    new_files: list["NewFile"] | None = None
    # A partial reset's kept migrations, re-pointed at the new ones; the tag in the new names.
    repointed: list["NewFile"] = field(default_factory=list)
    tag: str = ""
    # alias → facts about a database drop-db dropped (create-db brings them back).
    dropped: dict[str, dict[str, Any]] = field(default_factory=dict)
    # alias → (fingerprint of the kept data migrations, diff, source) of the
    # scratch build verify compared: a later verify proves the same files instead of building again.
    compared: dict[str, tuple[Any, Any, str]] = field(default_factory=dict)


class Run:
    def __init__(
        self,
        project: "Project",
        env: "Environment",
        *,
        out: Output | None = None,
        dry: bool = False,
        assume_yes: bool = False,
        context: "Context | None" = None,
    ):
        self.project = project
        self.env = env
        self.out = out or Output()
        self.dry = dry
        self.assume_yes = assume_yes
        self.context = context
        self.actions = Actions(self.out, dry)
        self.state = RunState()
        self._engines: dict[str, "engines.Engine"] = {alias: engines.for_spec(spec) for alias, spec in env.databases.items()}
        self.django = DjangoBridge(
            project,
            {alias: engine.django_settings() for alias, engine in self._engines.items()},
            session_sql=lambda alias: self.engine(alias).session_statements(),
        )

    @property
    def apps(self) -> tuple[str, ...]:
        return self.project.apps

    @property
    def aliases(self) -> list[str]:
        return self.django.aliases()

    def engine(self, alias: str = "default") -> "engines.Engine":
        if alias not in self._engines:
            self._engines[alias] = engines.for_django(alias, dict(self.django.settings.DATABASES[alias]))
        return self._engines[alias]

    @property
    def protected(self) -> bool:
        """reset.yaml's ``protected``; by default, any database on another machine is."""
        if self.env.protected is not None:
            return self.env.protected
        return any(not self.engine(alias).is_local() for alias in self.aliases)

    def relative(self, path: Path) -> str:
        """A path as the user thinks of it: relative to the project root when inside it."""
        # resolve() only when the path as given is not plainly inside: it costs a
        # system call per path component, and a reset names thousands of files.
        if path.is_absolute() and ".." not in path.parts and path.is_relative_to(self.project.root):
            return str(path.relative_to(self.project.root))
        try:
            return str(path.resolve().relative_to(self.project.root))
        except ValueError:
            return str(path)

    @contextmanager
    def scratch_database(self, alias: str) -> Iterator[str]:
        """A throwaway, empty sibling of ``alias`` (same engine and server, created
        like it), dropped afterwards.

        While it exists, every alias Django knows points at it, as Django's test
        runner points ``default`` at the test database: whatever a migration's
        code does, through any alias or the default manager, lands in the
        scratch database, never in a live one.  Yields ``alias``.
        """
        self.remove_abandoned_scratch()
        live = self.engine(alias)
        tag = secrets.token_hex(8)
        # Extensions the listed apps' migrations create are theirs to create: ready-made,
        # one carried to the wrong place would go unseen (a fresh database lacks it).
        left_out = data_migrations.extensions_created(self.django.loader(), self.apps)
        scratch = live.scratch(tag, leave_out=left_out)
        quiet = Actions(Output(io.StringIO()), dry=False)  # scratch work is not the user's business
        entry = {"tag": tag, "server": live.server_key(), "name": scratch.spec.name, "env": self.env.name}
        with state.scratch_claim(self.project, entry) as created:
            scratch.create(quiet)  # refuses a name that exists: it never touches a database it did not make
            created()
            try:
                with self.django.redirected(scratch.admin_django_settings()):
                    yield alias
            except StepFailed as failure:
                facts = getattr(live, "scratch_facts", dict)() if left_out else {}
                present = set(facts.get("extensions", ())) & left_out
                if not present:
                    raise
                raise StepFailed(f"{failure} (the scratch database gets no ready-made extension {', '.join(sorted(present))}: the "
                                 "listed apps' migrations create them, so a fresh database has one only if a kept migration creates it)") from None
            finally:
                scratch.discard(quiet)

    def remove_abandoned_scratch(self) -> None:
        """Drop scratch databases that killed runs of this project left behind."""
        for entry, forget in state.abandoned_scratch(self.project):
            if not entry.get("created"):
                forget()
                continue
            engine = next((self.engine(a) for a in self.aliases if self.engine(a).server_key() == entry.get("server")), None)
            if engine is None:
                continue  # on a server this environment does not reach
            self.django.setup()  # engines borrow Django's identifier quoting
            engine.scratch_named(entry["name"]).discard(Actions(Output(io.StringIO()), dry=False))
            self.out.info(f"removed scratch database {entry['name']}, left by a run that was killed")
            forget()


def failing_carries(run: Run, reset: "ResetGraph") -> dict[str, str]:
    """Every kept data migration, run on a scratch database of each alias built as
    the reset will build it: origin → the error of each one that fails."""
    origins = {(migration.app_label, migration.name): carry.origin for (migration, _), carry in zip(reset.carried, reset.carries, strict=True)}
    for key, moved_in in reset.inlined.items():
        origins[key] = ", ".join(sorted(set(moved_in.values())))
    failures: dict[str, str] = {}
    graph = graphs.after_reset_graph(run.django, run.apps, reset)
    for alias in run.aliases:
        with run.scratch_database(alias) as scratch:
            if reset.kept and graph is not None:
                _replay_partial(run, scratch, graph, origins, failures)
                continue
            for migration, error in graphs.try_carried(run.django, scratch, graphs.carried_in_memory(reset), graph):
                failures.setdefault(origins[(migration.app_label, migration.name)], f"{error} (on {alias})")
    return failures


def _replay_partial(run: Run, alias: str, graph: Any, origins: dict, failures: dict[str, str]) -> None:
    """A partial reset's kept migrations change the models after the carried ones run: the
    whole graph after the reset runs, as on a fresh database; a carried one that fails is named."""
    failed = graphs.replay(run.django, alias, graph)
    if failed is None:
        return
    key, error = failed
    if key not in origins:
        raise StepFailed(f"the migrations after the reset do not build a fresh database: {error}")
    failures.setdefault(origins[key], f"{error.split(': ', 1)[-1]} (on {alias})")
