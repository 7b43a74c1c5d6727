"""Database engines: one class per database, the only place engine differences live.

An engine knows how to tell whether its database exists, drop it, create it,
back it up and restore it, and which DATABASES entry Django needs for it.
"""
from __future__ import annotations

from djreset.engines.base import Engine
from djreset.engines.mysql import MySQLEngine
from djreset.engines.postgresql import PostgreSQLEngine
from djreset.engines.spec import DatabaseSpec
from djreset.engines.sqlite import SQLiteEngine
from djreset.errors import ConfigError

ENGINES: tuple[type[Engine], ...] = (SQLiteEngine, PostgreSQLEngine, MySQLEngine)


def names() -> list[str]:
    return [engine.name for engine in ENGINES]


def lookup(name: str) -> type[Engine] | None:
    """The engine class for a reset.yaml engine name (or one of its aliases)."""
    for engine in ENGINES:
        if name == engine.name or name in engine.aliases:
            return engine
    return None


def for_spec(spec: DatabaseSpec) -> Engine:
    engine = lookup(spec.engine)
    assert engine is not None, spec.engine
    return engine(spec)


def for_django(alias: str, settings_dict: dict) -> Engine:
    """The engine for a DATABASES entry from the project's own settings."""
    backend = settings_dict.get("ENGINE", "")
    for engine in ENGINES:
        if backend in engine.django_backends or any(backend.endswith(suffix) for suffix in engine.backend_suffixes):
            return engine.from_django(alias, settings_dict)
    raise ConfigError(f"DATABASES[{alias!r}] uses {backend!r}, which djreset cannot drop or create (supported: {', '.join(names())})")


__all__ = ["DatabaseSpec", "Engine", "ENGINES", "names", "lookup", "for_spec", "for_django"]
