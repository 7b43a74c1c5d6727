"""What djreset prints, and the confirmation prompts.

All output passes through :func:`djreset.secrets.mask`.
"""
from __future__ import annotations

import os
import sys
from typing import Sequence, TextIO

from djreset.secrets import mask


class Output:
    def __init__(self, stream: TextIO | None = None):
        self.stream = stream or sys.stdout

    def write(self, text: str = "") -> None:
        print(mask(text), file=self.stream, flush=True)

    def title(self, text: str) -> None:
        self.write(text)

    def step(self, index: int, total: int, text: str) -> None:
        self.write(f"\n==> [{index}/{total}] {text}")

    def action(self, text: str, dry: bool = False) -> None:
        self.write(f"    {'would ' if dry else ''}{text}")

    def info(self, text: str) -> None:
        self.write(f"    {text}")

    def warn(self, text: str) -> None:
        self.write(f"    warning: {text}")

    def progress(self, text: str) -> None:
        """A part that may take a while on a large project is starting."""
        self.write(f"    {text}...")

    def done(self, seconds: float) -> None:
        self.write(f"    done in {seconds:.2f}s")

    def table(self, rows: Sequence[Sequence[str]], indent: str = "    ") -> None:
        if not rows:
            return
        widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
        for row in rows:
            cells = [str(cell).ljust(width) for cell, width in zip(row, widths)]
            self.write(indent + "  ".join(cells).rstrip())


def is_interactive() -> bool:
    return sys.stdin.isatty() and os.environ.get("DJRESET_NONINTERACTIVE") != "1"


def ask(prompt: str) -> str:
    """Read one answer from the terminal; end of input counts as no."""
    try:
        return input(prompt).strip()
    except EOFError:
        return ""
