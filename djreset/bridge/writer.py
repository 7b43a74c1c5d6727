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
            source = _mark_moved_in(writer.as_string(), getattr(migration, INLINED, None))
            files.append(NewFile(label, migration.name, Path(writer.path), source, len(migration.operations)))
    return files


def _mark_moved_in(source: str, moved_in: dict[int, str] | None) -> str:
    """Say in the class which operations came from which old migration (Django's
    writer knows no such attribute): reset.yaml's decisions keep naming them."""
    if not moved_in:
        return source
    head = "class Migration(migrations.Migration):\n"
    line = f"    {INLINED} = {moved_in!r}  # kept operations djreset moved here, by origin\n"
    return source.replace(head, head + line, 1)


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
