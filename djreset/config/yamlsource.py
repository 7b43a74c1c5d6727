"""Read YAML into values that remember their file, line and key.

PyYAML's composer gives nodes with positions; the plain loader throws them
away.  Config validation needs them for its one-line errors, so this module
turns the node tree into :class:`Node` objects: a Python value (a scalar, a
dict of Nodes, or a list of Nodes) plus a :class:`~djreset.errors.Where`.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from djreset.errors import ConfigError, Where


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


def load(path: Path) -> Node:
    """Parse ``path``; YAML errors become ConfigErrors with the line."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not UTF-8 text ({exc.reason})", Where(path, 0, "")) from None
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", Where(path, 0, "")) from None
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return Node({}, Where(path, 1, ""))
        return _convert(loader, root, path, "")
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        problem = exc.problem or exc.context or "invalid YAML"
        raise ConfigError(f"invalid YAML: {problem}", Where(path, line, "")) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"invalid YAML: {exc}", Where(path, 0, "")) from None
    finally:
        loader.dispose()


def _child_key(parent: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{parent}[{key}]"
    return f"{parent}.{key}" if parent else key


def _convert(loader: yaml.SafeLoader, node: yaml.Node, path: Path, key: str) -> Node:
    where = Where(path, node.start_mark.line + 1, key)
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)  # resolves "<<" merge keys
        result: dict[str, Node] = {}
        for key_node, value_node in node.value:
            name = loader.construct_object(key_node)
            key_where = Where(path, key_node.start_mark.line + 1, _child_key(key, str(name)))
            if not isinstance(name, str):
                raise ConfigError(f"keys must be text, got {name!r}", key_where)
            if name in result:
                raise ConfigError("duplicate key", key_where)
            result[name] = _convert(loader, value_node, path, key_where.key)
        return Node(result, where)
    if isinstance(node, yaml.SequenceNode):
        items = [_convert(loader, item, path, _child_key(key, index)) for index, item in enumerate(node.value)]
        return Node(items, where)
    return Node(loader.construct_object(node), where)
