"""Compare the live schema with the one the new migrations build.

``--fake-initial`` only checks that tables (and AddField columns) exist.  The
verify step builds the new migrations into a scratch database and compares
it with the live one table by table, through the engine's own catalog
(``engines/catalog``): every column's definition, every constraint and index
by what it enforces (its name stripped), the table's comment and options.
A difference in structure is an error; the same structure under another name
(an index named by an older Django, a renamed column's old index name) is a
warning; a difference reset.yaml accepts (``verify: {accept: [...]}``) is
reported as accepted, never hidden.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Iterable

from djreset.engines.catalog import Catalog, Column, Constraint, Snapshot, Table

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper

__all__ = ["Column", "Constraint", "Table", "Difference", "Diff", "snapshot", "compare"]


@dataclass(frozen=True)
class Difference:
    table: str
    target: str | None  # the column, constraint or index; None: the table itself
    aspect: str  # one of engines.catalog.ASPECTS
    message: str

    def __str__(self) -> str:
        return self.message

    @property
    def key(self) -> str:
        return f"{self.table}.{self.target}" if self.target else self.table

    def matches(self, accepted: str) -> bool:
        """``accepted`` is ``TABLE[.NAME] [ASPECT]``, shell wildcards allowed (``*.id identity``)."""
        pattern, _, aspect = accepted.strip().partition(" ")
        # A bare TABLE covers the table and every column, constraint and index of it.
        where = fnmatchcase(self.key, pattern) or ("." not in pattern and fnmatchcase(self.table, pattern))
        return where and aspect.strip() in ("", self.aspect)


@dataclass
class Diff:
    errors: list[Difference] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    accepted: list[tuple[Difference, str]] = field(default_factory=list)  # with the entry that accepts it


def snapshot(connection: "BaseDatabaseWrapper", tables: Iterable[str], catalog: Catalog) -> Snapshot:
    """The schema of ``tables`` on ``connection``, read by the engine's catalog reader."""
    with connection.cursor() as cursor:
        return catalog.read(cursor, tables, connection.ops.quote_name)


def compare(live: Snapshot, expected: Snapshot, accept: Iterable[str] = ()) -> Diff:
    """What differs between the live schema and the one the migrations build."""
    found: list[Difference] = []
    warnings: list[str] = []
    for name in sorted(expected):
        want, have = expected[name], live.get(name)
        if want is None:
            continue
        if have is None:
            found.append(Difference(name, None, "missing", f"table {name}: missing in the live database"))
            continue
        found += _compare_options(name, have, want)
        found += _compare_columns(name, have, want)
        found += _compare_constraints(name, have, want, warnings)
    diff = Diff(warnings=warnings)
    accept = list(accept)
    for difference in found:
        entry = next((entry for entry in accept if difference.matches(entry)), None)
        if entry is None:
            diff.errors.append(difference)
        else:
            diff.accepted.append((difference, entry))
    return diff


def _shown(value: object) -> str:
    return "none" if value in (None, "") else str(value)


def _compare_options(table: str, have: Table, want: Table) -> list[Difference]:
    live, wanted = dict(have.options), dict(want.options)
    return [
        Difference(table, None, aspect, f"table {table}: {aspect} is {_shown(live.get(aspect))} live, {_shown(value)} by the migrations")
        for aspect, value in wanted.items()
        if live.get(aspect) != value
    ]


def _compare_columns(table: str, have: Table, want: Table) -> list[Difference]:
    found = []
    for name in sorted(set(want.columns) | set(have.columns)):
        expected, actual = want.columns.get(name), have.columns.get(name)
        if actual is None:
            found.append(Difference(table, name, "missing", f"table {table}: column {name} missing in the live database (migrations: {expected.describe()})"))
        elif expected is None:
            found.append(Difference(table, name, "extra", f"table {table}: column {name} exists only in the live database ({actual.describe()})"))
        elif actual != expected:
            found += _column_aspects(table, actual, expected)
    return found


def _column_aspects(table: str, actual: Column, expected: Column) -> list[Difference]:
    live, wanted = dict(actual.details), dict(expected.details)
    found = []
    for aspect in dict.fromkeys([*wanted, *live]):
        if live.get(aspect) == wanted.get(aspect):
            continue
        if aspect == "definition":
            message = f"table {table}: column {actual.name} is {_shown(live.get(aspect))} live, {_shown(wanted.get(aspect))} by the migrations"
        else:
            message = f"table {table}: column {actual.name}: {aspect} is {_shown(live.get(aspect))} live, {_shown(wanted.get(aspect))} by the migrations"
        found.append(Difference(table, actual.name, aspect, message))
    return found


def _compare_constraints(table: str, have: Table, want: Table, warnings: list[str]) -> list[Difference]:
    found = []
    live_shapes, wanted_shapes = Counter(have.constraints.values()), Counter(want.constraints.values())
    names = lambda constraints, shape: sorted(name for name, s in constraints.items() if s == shape)  # noqa: E731
    for shape in sorted(set(live_shapes) | set(wanted_shapes), key=lambda s: s.describe()):
        if wanted_shapes[shape] > live_shapes[shape]:
            wanted = [name for name in names(want.constraints, shape) if name not in have.constraints] or names(want.constraints, shape)
            found.append(Difference(table, wanted[0], "missing", f"table {table}: {shape.describe()} missing in the live database"))
        if live_shapes[shape] > wanted_shapes[shape]:
            extra = [name for name in names(have.constraints, shape) if name not in want.constraints] or names(have.constraints, shape)
            found.append(Difference(table, extra[0], "extra", f"table {table}: {shape.describe()} exists only in the live database"))
        if live_shapes[shape] and wanted_shapes[shape]:
            live_names, wanted_names = names(have.constraints, shape), names(want.constraints, shape)
            if live_names != wanted_names and not _generated(live_names + wanted_names):
                warnings.append(
                    f"table {table}: {shape.describe()} is named {', '.join(live_names)} live, {', '.join(wanted_names)} by the migrations"
                )
    return found


def _generated(names: list[str]) -> bool:
    """SQLite's unnamed constraints get made-up names that mean nothing."""
    return all(name.startswith("__") or name == "" for name in names)
