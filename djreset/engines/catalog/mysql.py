"""MySQL's and MariaDB's catalog: ``SHOW CREATE TABLE``, the server's own normal form.

Each line of it is one column, key or constraint, spelled by the server:
generated expressions, prefix lengths (``body(20)``), index types, CHECK
clauses, ON DELETE/ON UPDATE, column charsets and collations (shown when
they differ from the table's), and the table's options (engine, row
format, default charset and collation) and comment.  ``AUTO_INCREMENT=N``
is data, not schema, and is left out.
"""
from __future__ import annotations

import re
from typing import Any, Iterable

from djreset.engines.catalog import Column, Constraint, Quote, Snapshot, Table, first_identifier, normalize

KEYS = (
    ("primary key", "primary key"), ("unique key", "unique"), ("unique index", "unique"), ("fulltext key", "fulltext index"),
    ("spatial key", "spatial index"), ("key", "index"), ("index", "index"),
)
COUNTER = re.compile(r"\s*AUTO_INCREMENT=\d+")
COMMENT = re.compile(r"\s*COMMENT='((?:[^'\\]|\\.|'')*)'")
EXISTING = (
    "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() "
    "AND TABLE_TYPE = 'BASE TABLE' AND TABLE_NAME IN ({})"
)


class MySQLCatalog:
    def read(self, cursor: Any, tables: Iterable[str], quote: Quote) -> Snapshot:
        wanted = sorted(set(tables))
        result: Snapshot = {table: None for table in wanted}
        if not wanted:
            return result
        cursor.execute(EXISTING.format(", ".join(["%s"] * len(wanted))), wanted)
        for (table,) in cursor.fetchall():
            cursor.execute(f"SHOW CREATE TABLE {quote(table)}")
            result[table] = self.table(cursor.fetchone()[1])
        return result

    def table(self, sql: str) -> Table:
        lines = [line.strip().rstrip(",") for line in sql.splitlines()]
        columns: dict[str, Column] = {}
        constraints: dict[str, Constraint] = {}
        for line in lines[1:-1]:
            if line.startswith("`"):
                name, definition = first_identifier(line)
                columns[name] = Column(name, (("definition", normalize(definition)),))
                continue
            name, kind, shape = self.key(line)
            constraints[name] = Constraint(kind, shape)
        options = COUNTER.sub("", lines[-1].lstrip(")").strip())
        comment = COMMENT.search(options)
        options = COMMENT.sub("", options).strip()
        return Table(columns, constraints, (("comment", comment.group(1) if comment else None), ("options", options or None)))

    def key(self, line: str) -> tuple[str, str, str]:
        """(name, kind, definition without the name) of a key or constraint line."""
        spelled = normalize(line)
        if spelled.startswith("constraint "):
            name, rest = first_identifier(line[len("constraint"):])
            spelled = normalize(rest)
            kind = "foreign key" if spelled.startswith("foreign key") else "check" if spelled.startswith("check") else "constraint"
            return name, kind, spelled[len(kind):].strip() if kind != "constraint" else spelled
        for keyword, kind in KEYS:
            if spelled.startswith(keyword + " ") or spelled.startswith(keyword + "("):
                rest = line.strip()[len(keyword):].strip()
                if kind == "primary key":
                    return "PRIMARY", kind, normalize(rest)
                name, rest = first_identifier(rest) if not rest.startswith("(") else ("", rest)
                return name, kind, normalize(rest)
        return line, "other", spelled
