"""Every change djreset makes goes through :class:`Actions`.

A step says what it is about to do and hands over a callable that does it.
In a dry run (``djreset plan``, invoke's ``--dry``) the description is printed
and the callable is never called, so a dry run shows exactly what a real run
would do and cannot change anything.
"""
from __future__ import annotations

from typing import Callable, TypeVar

from djreset.ui import Output

T = TypeVar("T")


class Actions:
    def __init__(self, out: Output, dry: bool):
        self.out = out
        self.dry = dry
        # Changes started so far: a failed run with none needs no rollback.
        self.performed = 0

    def do(self, description: str, func: Callable[[], T] | None = None) -> T | None:
        self.out.action(description, dry=self.dry)
        if self.dry or func is None:
            return None
        self.performed += 1
        return func()

    def note(self, text: str) -> None:
        """A read-only finding worth showing (it changes nothing)."""
        self.out.info(text)
