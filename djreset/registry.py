"""The step registry: every step a recipe can name, with its options and its role.

A step is a small function ``func(run, **options)``.  Registering it here
makes it usable in reset.yaml recipes, validates its options when the config
is loaded, and gives it an invoke task of the same name.  What the runner
must know about a step (does it change things, does it back up, does it drop
a database) is declared here too, so the runner never names a step.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping


@dataclass(frozen=True)
class Option:
    """One option a step accepts in reset.yaml (``- drop-db: {force: true}``)."""

    kind: type
    default: Any
    help: str


@dataclass(frozen=True)
class StepSpec:
    name: str
    func: Callable[..., Any]
    options: Mapping[str, Option] = field(default_factory=dict)
    # Steps such as ``manage`` and ``run`` take one text argument instead of options.
    argument: str | None = None
    # Destructive steps need confirmation, a backup, the lock and a journal entry.
    destructive: bool = False
    # Runs for every step of a recipe before anything is done (before the
    # confirmation and the backup): refusals that must leave nothing behind.
    precheck: Callable[..., Any] | None = None
    # Checks one recipe entry (its argument, say) at the same time: (run, call).
    check_call: Callable[..., Any] | None = None
    # Takes a backup itself: no automatic backup is needed before it.
    saves_backup: bool = False
    # Puts a backup back: the one step that may run over an unfinished run.
    restores: bool = False
    # Drops a database: the automatic backup before it dumps the database too.
    drops_database: bool = False
    # May change a database's schema: live schema snapshots taken before it are stale.
    changes_schema: bool = True
    # May change tables and rows through Django rather than an engine (migrate,
    # manage, run): undoing that needs the database's dump.
    changes_data: bool = False
    # Replaces the listed apps' migration files.
    replaces_files: bool = False
    # Only reads (check, verify, measure): no journal, no backup, no rollback.
    # Any other step changes the project, destructive or not (makemigrations, migrate...).
    read_only: bool = False
    # Changes only what did not exist before it (create-db): alone, it gets no backup (the journal
    # undoes it; a backup of nothing would become the latest one restore takes).
    creates_only: bool = False

    def defaults(self) -> dict[str, Any]:
        return {name: option.default for name, option in self.options.items()}


STEPS: dict[str, StepSpec] = {}


def step(name: str, **role: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register ``func`` as the recipe step ``name``; its docstring is the help.

    Keyword arguments are :class:`StepSpec` fields (options, destructive, ...).
    """

    def register(func: Callable[..., Any]) -> Callable[..., Any]:
        if name in STEPS and STEPS[name].func is not func:
            raise ValueError(f"two steps are named {name!r}: {STEPS[name].func.__module__} and {func.__module__}")
        STEPS[name] = StepSpec(name=name, func=func, **{**role, "options": dict(role.get("options") or {})})
        return func

    return register


def get(name: str) -> StepSpec:
    return STEPS[name]
