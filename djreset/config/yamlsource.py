"""Read YAML into values that remember their file, line and key.

PyYAML's composer gives nodes with positions; the plain loader throws them
away.  Config validation needs them for its one-line errors, so this module
turns the node tree into :class:`Node` objects: a Python value (a scalar, a
dict of Nodes, or a list of Nodes) plus a :class:`~djreset.errors.Where`.

A reset.yaml is small, so anything that is not is refused before it can cost
time or memory: files over MAX_BYTES, nesting deeper than MAX_DEPTH, an alias
inside itself, and aliases that expand to more than MAX_VALUES values (the
"billion laughs": a few lines that expand exponentially).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from djreset.errors import ConfigError, Where

MAX_BYTES = 1_000_000
MAX_DEPTH = 40
MAX_VALUES = 20_000
MERGE_TAG = "tag:yaml.org,2002:merge"


@dataclass(frozen=True)
class Node:
    value: Any
    where: Where

    @property
    def is_mapping(self) -> bool:
        return isinstance(self.value, dict)

    @property
    def is_sequence(self) -> bool:
        return isinstance(self.value, list)

    def plain(self) -> Any:
        """The value without positions (for options passed on as data)."""
        if self.is_mapping:
            return {key: child.plain() for key, child in self.value.items()}
        if self.is_sequence:
            return [child.plain() for child in self.value]
        return self.value


def _read(path: Path) -> str:
    try:
        with open(path, "rb") as handle:  # at most one byte more than allowed, whatever stat says
            data = handle.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            raise ConfigError(f"larger than {MAX_BYTES} bytes: not a reset.yaml", Where(path, 0, ""))
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not UTF-8 text ({exc.reason})", Where(path, 0, "")) from None
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", Where(path, 0, "")) from None


def load(path: Path) -> Node:
    """Parse ``path``; YAML errors become ConfigErrors with the line."""
    loader = yaml.SafeLoader(_read(path))
    try:
        root = loader.get_single_node()
        if root is None:
            return Node({}, Where(path, 1, ""))
        return _Converter(loader, path).convert(root, "")
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        problem = exc.problem or exc.context or "invalid YAML"
        raise ConfigError(f"invalid YAML: {problem}", Where(path, line, "")) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"invalid YAML: {exc}", Where(path, 0, "")) from None
    except RecursionError:  # PyYAML's own composer, on thousands of nested brackets
        raise ConfigError(f"nested more than {MAX_DEPTH} levels deep", Where(path, 0, "")) from None
    finally:
        loader.dispose()


def _child_key(parent: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{parent}[{key}]"
    return f"{parent}.{key}" if parent else key


class _Converter:
    """YAML nodes → Nodes, with the size limits of the module docstring."""

    def __init__(self, loader: yaml.SafeLoader, path: Path):
        self.loader = loader
        self.path = path
        self.values = 0
        self.open: set[int] = set()  # the nodes being converted: an alias to one is recursive

    def convert(self, node: yaml.Node, key: str) -> Node:
        where = Where(self.path, node.start_mark.line + 1, key)
        if id(node) in self.open:
            raise ConfigError("an alias refers to the value that contains it (a recursive alias)", where)
        if len(self.open) >= MAX_DEPTH:
            raise ConfigError(f"nested more than {MAX_DEPTH} levels deep", Where(self.path, where.line, key.split("[")[0]))
        self.values += 1
        if self.values > MAX_VALUES:
            raise ConfigError(f"more than {MAX_VALUES} values once aliases are expanded (an alias bomb?)", where)
        if not isinstance(node, (yaml.MappingNode, yaml.SequenceNode)):
            return Node(self.scalar(node, where), where)
        self.open.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                return Node([self.convert(item, _child_key(key, index)) for index, item in enumerate(node.value)], where)
            return Node(self._mapping(node, key), where)
        finally:
            self.open.discard(id(node))

    def scalar(self, node: yaml.Node, where: Where) -> Any:
        """PyYAML's value for a scalar; one it cannot make (a date 2024-13-45, an
        integer of 5,000 digits, a tag on text it does not fit) is bad input."""
        try:
            return self.loader.construct_object(node)
        except yaml.YAMLError:
            raise
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
            detail = str(exc).split(";")[0] if isinstance(exc, ValueError) else f"not a valid {node.tag.rpartition(':')[2]}"
            raise ConfigError(f"cannot read the value {node.value[:40]!r} ({detail}); quote it if it is text", where) from None

    def _mapping(self, node: yaml.MappingNode, key: str) -> dict[str, Node]:
        merged: dict[str, Node] = {}  # from "<<" merge keys: the mapping's own keys win
        result: dict[str, Node] = {}
        for key_node, value_node in node.value:
            if key_node.tag == MERGE_TAG:
                merged.update(self._merge(value_node, key))
                continue
            key_where = Where(self.path, key_node.start_mark.line + 1, key)
            if not isinstance(key_node, yaml.ScalarNode):
                raise ConfigError("keys must be text, got a mapping or a list", key_where)
            name = self.scalar(key_node, key_where)
            key_where = Where(self.path, key_node.start_mark.line + 1, _child_key(key, str(name)))
            if not isinstance(name, str):
                raise ConfigError(f"keys must be text, got {name!r}", key_where)
            if name in result:
                raise ConfigError("duplicate key", key_where)
            result[name] = self.convert(value_node, key_where.key)
        return {**merged, **result}

    def _merge(self, value_node: yaml.Node, key: str) -> dict[str, Node]:
        """``<<: *base`` or ``<<: [*a, *b]`` (earlier ones win, as YAML says)."""
        sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
        merged: dict[str, Node] = {}
        for source in reversed(sources):
            converted = self.convert(source, key)
            if not converted.is_mapping:
                raise ConfigError("a merge key (<<) needs a mapping or a list of mappings", converted.where)
            merged.update(converted.value)
        return merged
