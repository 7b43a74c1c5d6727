"""What djreset prints, the prompts, the progress line and the --json report.

All output passes through :func:`djreset.secrets.mask`.  Status words are
styled with the roles of Django's management commands (SUCCESS, WARNING,
ERROR, NOTICE, MIGRATE_HEADING): the caller hands in Django's style on a
terminal, and ui itself never imports Django, so the default is plain text.
Everything a run says is also recorded in a :class:`Report`, which ``--json``
prints as one document on stdout while the human output goes to stderr.
"""
from __future__ import annotations

import os
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator, Sequence, TextIO

from djreset.secrets import mask

ROLES = ("SUCCESS", "WARNING", "ERROR", "NOTICE", "MIGRATE_HEADING", "MIGRATE_LABEL")


def _unchanged(text: str) -> str:
    return text


class PlainStyle:
    """Django's style roles, without colour."""

    def __init__(self) -> None:
        for role in ROLES:
            setattr(self, role, _unchanged)


PLAIN = PlainStyle()


def colour_wanted(stream: TextIO, *, no_color: bool = False, force_color: bool = False) -> bool:
    """Colour on a terminal only; never with --no-color or NO_COLOR (no-color.org); always with --force-color.

    DJANGO_COLORS=nocolor is Django's own switch: its style then has no colours.
    """
    if no_color:
        return False
    if force_color:
        return True
    if os.environ.get("NO_COLOR"):
        return False
    return hasattr(stream, "isatty") and stream.isatty()


@dataclass(frozen=True)
class Styled:
    """A table cell whose text is shown in a style role (padding stays plain)."""

    text: str
    role: str

    def __str__(self) -> str:
        return self.text


class Report:
    """What a run did, for ``--json``: top-level facts, and per step its actions,
    messages, warnings and findings."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}
        self.current: dict[str, Any] | None = None
        self.started: list[dict[str, Any]] = []

    def set(self, key: str, value: Any) -> None:
        self.data[key] = value

    def begin_step(self) -> dict[str, Any]:
        self.current = {"actions": [], "messages": [], "warnings": [], "found": {}}
        self.started.append(self.current)
        return self.current

    def end_step(self) -> None:
        self.current = None

    def add(self, kind: str, text: str) -> None:
        """A line of ``kind`` (actions, messages, warnings) under the running step, or the run itself."""
        target = self.current if self.current is not None else self.data
        target.setdefault(kind, []).append(text)

    def found(self, key: str, value: Any) -> None:
        """A finding of the running step (a list extends what is there)."""
        target = self.current["found"] if self.current is not None else self.data.setdefault("found", {})
        if isinstance(value, list) and isinstance(target.get(key), list):
            target[key].extend(value)
        else:
            target[key] = value

    def document(self, version: str, exit_code: int, error: str | None) -> dict[str, Any]:
        """The --json document, every string masked (before JSON escapes a password's quotes)."""
        head = {"djreset": version, "ok": exit_code == 0, "exit_code": exit_code, "error": error}
        return _masked({**head, **self.data})


def _masked(value: Any) -> Any:
    """``value`` as JSON values (paths and the like become text), with every secret masked."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, dict):
        return {str(key): _masked(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_masked(item) for item in value]
    return mask(str(value))


class Progress:
    """A phase that may take a while: its line (``    building ...``) is printed at once
    (off a terminal too, unless ``log`` is false).  On a terminal, and while used as a
    context manager, the line then counts (``... 12/40``) or shows a running clock;
    ``total`` may be set once known.  Logs never get the counts."""

    def __init__(self, out: "Output", text: str, total: int | None = None, log: bool = True):
        self.out, self.total, self.log = out, total, log
        self.head = mask(f"    {text}...")
        self.done = 0
        self.live = hasattr(out.stream, "isatty") and out.stream.isatty()
        self._begin = time.monotonic()
        self._drawn_at = 0.0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        self._open()

    def _open(self) -> None:
        if self.out.progress_line is not None:
            self.out.progress_line.end()
        if self.live:  # the line stays open for the counts; the next line written ends it
            self.out.stream.write(self.head)
            self.out.stream.flush()
            self.out.progress_line = self
        elif self.log:
            self.out.write(self.head)

    def __enter__(self) -> "Progress":
        if self.live:
            self._ticker = threading.Thread(target=self._tick, daemon=True)
            self._ticker.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
        self.end()

    def advance(self, count: int = 1) -> None:
        self.done += count
        if self.live and (time.monotonic() - self._drawn_at >= 0.1 or self.done == self.total):
            self._draw()

    def end(self) -> None:
        """Close the line (the next output starts on a line of its own)."""
        with self._lock:
            if self.out.progress_line is self:
                self.out.progress_line = None
                self.out.stream.write("\n")
                self.out.stream.flush()

    def _tick(self) -> None:
        while not self._stop.wait(0.5):
            if self.total is None:
                self._draw()

    def _draw(self) -> None:
        tail = f" {self.done}/{self.total}" if self.total is not None else f" {time.monotonic() - self._begin:.0f}s"
        with self._lock:
            if self.out.progress_line is self:
                self._drawn_at = time.monotonic()
                self.out.stream.write("\r" + self.head + tail)
                self.out.stream.flush()


class Output:
    def __init__(self, stream: TextIO | None = None, style: Any = PLAIN, report: Report | None = None):
        self.stream = stream or sys.stdout
        self.style = style
        self.report = report or Report()
        self.progress_line: Progress | None = None  # on screen now; a line written clears it

    def write(self, text: str = "", role: str | None = None) -> None:
        text = mask(text)
        if self.progress_line is not None:
            self.progress_line.end()
        if role and text.strip():
            body = text.lstrip()  # the indent stays plain
            text = text[: len(text) - len(body)] + getattr(self.style, role)(body)
        print(text, file=self.stream, flush=True)

    def title(self, text: str) -> None:
        self.write(text)

    def begin_step(self, header: str) -> dict[str, Any]:
        """A step starts: its header, and the record of what it says and does."""
        self.write()
        self.write(f"==> {header}", "MIGRATE_HEADING")
        return self.report.begin_step()

    def action(self, text: str, dry: bool = False) -> None:
        self.report.add("actions", mask(text))
        self.write(f"    {'would ' if dry else ''}{text}")

    def info(self, text: str) -> None:
        self.report.add("messages", mask(text))
        # A finding that failed (✗) is an error; "<step>: ok" is a success.
        role = "ERROR" if text.startswith("✗") else "SUCCESS" if _says_ok(text) else None
        self.write(f"    {text}", role)

    def warn(self, text: str) -> None:
        self.report.add("warnings", mask(text))
        self.write(f"    warning: {text}", "WARNING")

    def found(self, key: str, value: Any) -> None:
        """Record a finding for --json (the human output says it in words already)."""
        self.report.found(key, value)

    def done(self, seconds: float) -> None:
        self.write(f"    {self.style.SUCCESS('done')} in {seconds:.2f}s")

    def progress(self, text: str, total: int | None = None, *, log: bool = True) -> Progress:
        """A phase that may take a while starts: ``out.progress("building ...")``; with
        ``with out.progress(...) as bar: bar.advance()`` a terminal also sees it count.
        ``log=False``: a terminal only (nothing in logs)."""
        return Progress(self, text, total, log)

    def table(self, rows: Sequence[Sequence[Any]], indent: str = "    ") -> None:
        if not rows:
            return
        widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
        for row in rows:
            cells = [self._cell(cell, width) for cell, width in zip(row, widths, strict=True)]
            self.write(indent + "  ".join(cells).rstrip())

    def _cell(self, cell: Any, width: int) -> str:
        padded = str(cell).ljust(width)
        if isinstance(cell, Styled) and cell.text:
            return getattr(self.style, cell.role)(cell.text) + padded[len(cell.text):]
        return padded


def _says_ok(text: str) -> bool:
    head, _, rest = text.partition(": ")
    return bool(head) and " " not in head and (rest == "ok" or rest.startswith("ok "))


@contextmanager
def stdout_kept_for_the_document(json: bool) -> Iterator[None]:
    """With --json, stdout is the document's alone: while the task runs, whatever
    else writes to it (the project's settings and migrations through sys.stdout,
    child processes through file descriptor 1) goes to stderr."""
    if not json:
        yield
        return
    sys.stdout.flush()
    saved, previous = os.dup(1), sys.stdout
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    try:
        yield
    finally:
        sys.stderr.flush()
        sys.stdout = previous
        os.dup2(saved, 1)
        os.close(saved)


def is_interactive() -> bool:
    return sys.stdin.isatty() and os.environ.get("DJRESET_NONINTERACTIVE") != "1"


def ask(prompt: str) -> str:
    """Read one answer from the terminal; end of input counts as no.

    The prompt goes to stderr, so stdout (a --json document) stays clean."""
    print(mask(prompt), end="", file=sys.stderr, flush=True)
    try:
        return input().strip()
    except EOFError:
        return ""

