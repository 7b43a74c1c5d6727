"""SQLite's catalog: ``sqlite_master`` holds each table's and index's SQL as written.

One query reads every table and index; each CREATE TABLE is split into its
column definitions and table constraints, each CREATE INDEX loses its name.
SQLite keeps the text it was given (ALTER TABLE edits it in place), so the
normalized text is the whole truth: type, NOT NULL, DEFAULT, COLLATE,
GENERATED ... AS (...), inline REFERENCES with ON DELETE and DEFERRABLE,
CHECK expressions, index columns, expressions, order and WHERE.
"""
from __future__ import annotations

import re
from typing import Any, Iterable

from djreset.engines.catalog import Column, Constraint, Quote, Snapshot, Table, first_identifier, normalize, parenthesized, split_top_level

TABLE_CONSTRAINTS = ("primary key", "unique", "check", "foreign key")
QUOTES = ("\"", "`", "[")  # a quoted name is a column ("checksum"), never a constraint keyword
INDEX = re.compile(r"^create (unique )?index (?:if not exists )?[^\s(]+ on [^\s(]+(.*)$")


class SQLiteCatalog:
    def read(self, cursor: Any, tables: Iterable[str], quote: Quote) -> Snapshot:
        wanted = sorted(set(tables))
        result: Snapshot = {table: None for table in wanted}
        if not wanted:
            return result
        marks = ", ".join(["%s"] * len(wanted))
        cursor.execute(f"SELECT type, name, tbl_name, sql FROM sqlite_master WHERE tbl_name IN ({marks}) ORDER BY type DESC", wanted)
        for kind, name, table, sql in cursor.fetchall():
            if kind == "table":
                result[table] = self.table(sql)
            elif kind == "index" and sql and result.get(table) is not None:
                index = INDEX.match(normalize(sql))
                if index:  # autoindexes (sql NULL) come from UNIQUE in the table's own text
                    result[table].constraints[name] = Constraint("unique index" if index.group(1) else "index", index.group(2))
        return result

    def table(self, sql: str) -> Table:
        body, options = parenthesized(sql)
        columns: dict[str, Column] = {}
        constraints: dict[str, Constraint] = {}
        for number, part in enumerate(split_top_level(body)):
            name, rest = f"__{number}", part
            if normalize(part).startswith("constraint "):
                name, rest = first_identifier(part.strip()[len("constraint"):])
            spelled = normalize(rest)
            kind = None if rest.lstrip().startswith(QUOTES) else next((kind for kind in TABLE_CONSTRAINTS if re.match(rf"{kind}\b", spelled)), None)
            if kind is None:
                column, definition = first_identifier(part)
                columns[column] = Column(column, (("definition", normalize(definition)),))
            else:
                constraints[name] = Constraint(kind, spelled[len(kind):].strip())
        return Table(columns, constraints, (("options", normalize(options) or None),))
