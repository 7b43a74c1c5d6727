"""Compare two databases' schemas through Django's introspection.

``--fake-initial`` only checks that tables (and AddField columns) exist.  The
verify step builds the new migrations into a scratch database and compares
it with the live one table by table: columns (type, size, nullability,
default) and constraints (primary keys, foreign keys, unique, check, indexes).
A difference in structure is an error; the same structure under another
name (an index named by an older Django, a renamed column's old index name)
is a warning.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper

# FieldInfo attributes that describe the column itself.  Backends add their
# own (MySQL: extra, is_unsigned, data_type; PostgreSQL: is_autofield).
COLUMN_FIELDS = (
    "display_size", "internal_size", "precision", "scale", "null_ok", "default", "collation",
    "extra", "is_unsigned", "data_type", "is_autofield", "comment",
)
# MySQL's display_size comes from the rows of the table, not from its definition.
DATA_DEPENDENT = {"mysql": {"display_size"}}


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    details: tuple[tuple[str, Any], ...]

    def describe(self) -> str:
        shown = [self.type] + [f"{key}={value}" for key, value in self.details if value not in (None, "")]
        return " ".join(shown)


@dataclass(frozen=True)
class Constraint:
    """A constraint or index without its name: what it enforces."""

    kind: str
    columns: tuple[str, ...]
    extra: tuple[tuple[str, Any], ...]

    def describe(self) -> str:
        more = ", ".join(f"{key} {value}" for key, value in self.extra if value)
        return f"{self.kind} ({', '.join(self.columns)})" + (f" {more}" if more else "")


@dataclass
class Table:
    columns: dict[str, Column]
    constraints: dict[str, Constraint]  # name → structure


@dataclass
class Diff:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _column(connection: "BaseDatabaseWrapper", info: Any) -> Column:
    try:
        kind = connection.introspection.get_field_type(info.type_code, info)
    except KeyError:  # a type Django has no field for
        kind = str(info.type_code)
    ignored = DATA_DEPENDENT.get(connection.vendor, set())
    details = tuple((name, getattr(info, name, None)) for name in COLUMN_FIELDS if name not in ignored)
    # SQLite reports the declared type ("varchar(32)"): keep it, it carries the size.
    raw = info.type_code if isinstance(info.type_code, str) else ""
    return Column(info.name, f"{kind}{'/' + raw if raw else ''}", details)


def _constraint(info: dict[str, Any]) -> Constraint:
    if info.get("primary_key"):
        kind = "primary key"
    elif info.get("foreign_key"):
        kind = "foreign key"
    elif info.get("check"):
        kind = "check"
    elif info.get("unique"):
        kind = "unique"
    else:
        kind = "index"
    extra = []
    if info.get("foreign_key"):
        extra.append(("references", ".".join(info["foreign_key"])))
    if kind == "index":
        extra.append(("type", info.get("type")))
        orders = info.get("orders")
        if orders and any(order != "ASC" for order in orders):
            extra.append(("orders", tuple(orders)))
    if kind == "unique" and info.get("index"):
        extra.append(("backed by", "index"))
    # Introspection gives an expression (Lower("name")) as a column None.
    return Constraint(kind, tuple(column or "(expression)" for column in info.get("columns") or ()), tuple(extra))


def snapshot(connection: "BaseDatabaseWrapper", tables: Iterable[str]) -> dict[str, Table | None]:
    """The schema of ``tables`` (None for a table that does not exist)."""
    introspection = connection.introspection
    result: dict[str, Table | None] = {}
    with connection.cursor() as cursor:
        existing = set(introspection.table_names(cursor))
        for table in sorted(tables):
            if table not in existing:
                result[table] = None
                continue
            columns = {info.name: _column(connection, info) for info in introspection.get_table_description(cursor, table)}
            constraints = {name: _constraint(info) for name, info in introspection.get_constraints(cursor, table).items()}
            result[table] = Table(columns, constraints)
    return result


def compare(live: dict[str, Table | None], expected: dict[str, Table | None]) -> Diff:
    """What differs between the live schema and the one the migrations build."""
    diff = Diff()
    for name in sorted(expected):
        want, have = expected[name], live.get(name)
        if want is None:
            continue
        if have is None:
            diff.errors.append(f"table {name}: missing in the live database")
            continue
        _compare_columns(name, have, want, diff)
        _compare_constraints(name, have, want, diff)
    return diff


def _compare_columns(table: str, have: Table, want: Table, diff: Diff) -> None:
    for column in sorted(set(want.columns) | set(have.columns)):
        expected, actual = want.columns.get(column), have.columns.get(column)
        if actual is None:
            diff.errors.append(f"table {table}: column {column} missing in the live database (migrations: {expected.describe()})")
        elif expected is None:
            diff.errors.append(f"table {table}: column {column} exists only in the live database ({actual.describe()})")
        elif actual != expected:
            diff.errors.append(f"table {table}: column {column} is {actual.describe()} live, {expected.describe()} by the migrations")


def _compare_constraints(table: str, have: Table, want: Table, diff: Diff) -> None:
    live_shapes, wanted_shapes = Counter(have.constraints.values()), Counter(want.constraints.values())
    for shape in sorted(set(live_shapes) | set(wanted_shapes), key=lambda s: s.describe()):
        missing = wanted_shapes[shape] - live_shapes[shape]
        extra = live_shapes[shape] - wanted_shapes[shape]
        if missing > 0:
            diff.errors.append(f"table {table}: {shape.describe()} missing in the live database")
        if extra > 0:
            diff.errors.append(f"table {table}: {shape.describe()} exists only in the live database")
    live_names = {shape: sorted(name for name, s in have.constraints.items() if s == shape) for shape in live_shapes}
    for shape in wanted_shapes:
        if shape in live_shapes:
            wanted = sorted(name for name, s in want.constraints.items() if s == shape)
            if wanted != live_names[shape] and not _generated(wanted + live_names[shape]):
                diff.warnings.append(
                    f"table {table}: {shape.describe()} is named {', '.join(live_names[shape])} live, {', '.join(wanted)} by the migrations"
                )


def _generated(names: list[str]) -> bool:
    """SQLite's unnamed constraints get made-up names that mean nothing."""
    return all(name.startswith("__") or name == "" for name in names)
