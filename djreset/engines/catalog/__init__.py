"""Schema catalogs: one reader per database, for what verify compares.

Django's introspection leaves out what verify must see (a CHECK's
expression, an index's predicate, operator classes, deferrability, ON DELETE,
generated expressions, prefix lengths, table options) and, on SQLite, parses
every CREATE TABLE with sqlparse.  Each reader here asks its database's own
catalog instead, in a few queries for all tables, and returns the same
normal form: per table, columns by name, constraints and indexes by name
with the name stripped from their definition, and the table's options.

A reader gets a DB-API cursor (Django's) and the function that quotes an
identifier (Django's); it never builds SQL from a name by hand.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Protocol

# What a difference can be about; reset.yaml's verify.accept names one of them.
ASPECTS = (
    "type", "null", "default", "identity", "generated", "collation", "comment", "definition",
    "options", "missing", "extra",
)


@dataclass(frozen=True)
class Column:
    name: str
    details: tuple[tuple[str, Any], ...]  # (aspect, value) in a fixed order

    def describe(self) -> str:
        return " ".join(str(value) for _, value in self.details if value not in (None, "", False)) or "-"


@dataclass(frozen=True)
class Constraint:
    """A constraint or index without its name: what it enforces."""

    kind: str  # "primary key", "foreign key", "unique", "check", "index", "unique index", ...
    definition: str  # normalized, name stripped: "(status, created_at) WHERE active"

    def describe(self) -> str:
        return f"{self.kind} {self.definition}"


@dataclass
class Table:
    columns: dict[str, Column]
    constraints: dict[str, Constraint]  # name → structure
    options: tuple[tuple[str, Any], ...] = ()  # (aspect, value): comment, options


Snapshot = dict[str, "Table | None"]
Quote = Callable[[str], str]


class Catalog(Protocol):
    def read(self, cursor: Any, tables: Iterable[str], quote: Quote) -> Snapshot:
        """The schema of ``tables`` (None for a table that does not exist)."""


# -- normalizing SQL text (SQLite keeps what was written; MySQL prints its own) --------------

_TOKEN = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|`(?:[^`]|``)*`|\[[^\]]*\]|\s+|[(),]|[^\s(),'\"`\[]+")


_TIGHT = {"(", ")", ","}  # no space before these


def _spelled(token: str) -> str:
    if token[0] in "\"`[":
        return token[1:-1].lower()
    return token if token[0] == "'" else token.lower()


def normalize(sql: str) -> str:
    """One spelling of a SQL fragment: identifier quotes gone, keywords and names
    lowercased, no space around parentheses or before a comma, one space
    elsewhere between words.  String literals are kept as written."""
    out = ""
    previous = None
    for token in _TOKEN.findall(sql):
        if token.isspace():
            continue
        if previous is not None and previous != "(" and token not in _TIGHT:
            out += " "
        out += _spelled(token)
        previous = token
    return out


def split_top_level(body: str) -> list[str]:
    """The comma-separated parts of ``body`` that are not inside parentheses or quotes."""
    parts: list[str] = []
    depth, current = 0, ""
    for token in _TOKEN.findall(body):
        depth += {"(": 1, ")": -1}.get(token, 0)
        if token == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += token
    if current.strip():
        parts.append(current.strip())
    return parts


def first_identifier(text: str) -> tuple[str, str]:
    """(the identifier ``text`` starts with, unquoted; the rest)."""
    text = text.strip()
    match = _TOKEN.match(text)
    word = match.group(0) if match else text
    name = word[1:-1] if word[:1] in ("\"", "`", "[") else word
    return name, text[len(word):].strip()


def parenthesized(text: str) -> tuple[str, str]:
    """(what is inside the first parentheses of ``text``, what follows them)."""
    depth, inside, after, seen = 0, "", "", False
    for token in _TOKEN.findall(text):
        if seen and depth == 0:
            after += token
            continue
        if token == "(":
            depth += 1
            if depth == 1:
                seen = True
                continue
        elif token == ")":
            depth -= 1
            if depth == 0:
                continue
        if depth > 0:
            inside += token
    return inside, after
