"""New migration files, written the way ``makemigrations`` writes them.

The migrations come from Django's autodetector (``graphs.predict`` before the
files change, ``graphs.autodetect`` otherwise); Django's MigrationWriter
renders each one into the file and path makemigrations would choose, and the
formatters makemigrations runs (black, when the project has it) run on them.
The project's own ``makemigrations`` command is never called: an override
that refuses, or writes something else, neither blocks nor changes a reset.

A migration is rendered when it is predicted (clean-files, before the old
files go), so the files written are the ones check and verify proved; a
migration that should replace others (``replaces``) or carry another name is
a change to the Migration objects before :func:`render`, nothing here.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from djreset.bridge.data_migrations import INLINED

if TYPE_CHECKING:
    from django.db.migrations import Migration


@dataclass(frozen=True)
class NewFile:
    """One new migration file: where it goes and what it says."""

    app: str
    name: str
    path: Path
    source: str
    operations: int

    def to_json(self) -> dict[str, Any]:
        return {**self.__dict__, "path": str(self.path)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "NewFile":
        return cls(**{**data, "path": Path(data["path"])})


def render(migrations: dict[str, list["Migration"]]) -> list[NewFile]:
    """Each migration as makemigrations would write it (header included)."""
    from django.db.migrations.writer import MigrationWriter

    files = []
    for label, made in migrations.items():
        for migration in made:
            writer = MigrationWriter(migration, include_header=True)
            source = _add_to_class(writer.as_string(), _moved_in(getattr(migration, INLINED, None)) + _run_before(migration))
            files.append(NewFile(label, migration.name, Path(writer.path), source, len(migration.operations)))
    return files


def _moved_in(moved_in: dict[int, str] | None) -> list[str]:
    """Which operations came from which old migration (reset.yaml's decisions keep naming them)."""
    return [f"    {INLINED} = {moved_in!r}  # kept operations djreset moved here, by origin\n"] if moved_in else []


def _run_before(migration: "Migration") -> list[str]:
    """``run_before``, which Django's writer leaves out (the autodetector never sets it; a reset may)."""
    return [f"    run_before = {[tuple(key) for key in migration.run_before]!r}\n"] if migration.run_before else []


def _add_to_class(source: str, lines: list[str]) -> str:
    """Attributes Django's writer does not write, first in the Migration class."""
    head = "class Migration(migrations.Migration):\n"
    return source.replace(head, head + "".join(lines), 1) if lines else source


def write(file: NewFile) -> None:
    """Write one file; a new migrations folder gets its __init__.py, as makemigrations does."""
    file.path.parent.mkdir(parents=True, exist_ok=True)
    package = file.path.parent / "__init__.py"
    if not package.exists():
        package.touch()
    file.path.write_text(file.source, encoding="utf-8")


def run_formatters(paths: Iterable[Path]) -> None:
    """The formatters makemigrations runs on what it wrote (black, if installed)."""
    from django.core.management.utils import run_formatters

    written = [str(path) for path in paths]
    if written:
        run_formatters(written, stderr=io.StringIO())
