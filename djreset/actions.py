"""Every change djreset makes goes through :class:`Actions`.

A step says what it is about to do and hands over a callable that does it.
In a dry run (``djreset plan``, invoke's ``--dry``) the description is printed
and the callable is never called, so a dry run shows exactly what a real run
would do and cannot change anything.

A change to a whole database (dropped, created, loaded from a dump) also names
itself as a :class:`Change`.  During a journaled run it is written to the
journal *before* it is made, so a rollback, or a ``restore`` after a kill,
puts back exactly the databases the run changed and leaves the others alone.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol, TypeVar

from djreset.ui import Output

T = TypeVar("T")


@dataclass(frozen=True)
class Change:
    """A database alias and what happens to it: dropped, created, loaded (from a
    dump) or data (tables and rows changed through Django: migrate, manage, run)."""

    alias: str
    event: str
    # A drop that ended other sessions: undoing the run may end them too, and
    # nothing else ever does.
    force: bool = False


class Ledger(Protocol):
    def record(self, change: Change) -> None: ...

    def retract(self, change: Change) -> None: ...


class Actions:
    def __init__(self, out: Output, dry: bool):
        self.out = out
        self.dry = dry
        # Changes started so far.
        self.performed = 0
        # Where database changes are journaled; set by the runner for the run.
        self.ledger: Ledger | None = None

    def do(self, description: str, func: Callable[[], T] | None = None, *, change: Change | None = None) -> T | None:
        self.out.action(description, dry=self.dry)
        if self.dry or func is None:
            return None
        self.performed += 1
        if change is not None and self.ledger is not None:
            self.ledger.record(change)
        return func()

    def retract(self, change: Change) -> None:
        """The change did not happen after all (the server refused it before doing anything)."""
        if self.ledger is not None and not self.dry:
            self.ledger.retract(change)

    def note(self, text: str) -> None:
        """A read-only finding worth showing (it changes nothing)."""
        self.out.info(text)
