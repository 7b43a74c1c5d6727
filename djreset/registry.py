"""The step registry: every step a recipe can name, with its options.

A step is a small function ``func(run, options)``.  Registering it here makes
it usable in reset.yaml recipes, validates its options when the config is
loaded, and gives it an invoke task of the same name.
"""
from __future__ import annotations

import inspect
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
    help: str
    options: Mapping[str, Option] = field(default_factory=dict)
    # Steps such as ``manage`` and ``run`` take one text argument instead of options.
    argument: str | None = None
    # Destructive steps need confirmation, a backup and a journal entry.
    destructive: bool = False
    # Steps that only read (plan, check, verify) never take the reset lock.
    read_only: bool = False
    # Runs for every step of a recipe before anything is done (before the
    # confirmation and the backup): refusals that must leave nothing behind.
    precheck: Callable[..., Any] | None = None

    def defaults(self) -> dict[str, Any]:
        return {name: option.default for name, option in self.options.items()}


STEPS: dict[str, StepSpec] = {}


def step(
    name: str,
    *,
    options: Mapping[str, Option] | None = None,
    argument: str | None = None,
    destructive: bool = False,
    read_only: bool = False,
    precheck: Callable[..., Any] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register ``func`` as the recipe step ``name``; its docstring is the help."""

    def register(func: Callable[..., Any]) -> Callable[..., Any]:
        doc = inspect.getdoc(func) or ""
        STEPS[name] = StepSpec(
            name=name,
            func=func,
            help=doc.splitlines()[0] if doc else name,
            options=dict(options or {}),
            argument=argument,
            destructive=destructive,
            read_only=read_only,
            precheck=precheck,
        )
        return func

    return register


def get(name: str) -> StepSpec:
    return STEPS[name]
