"""The engine interface every database class implements."""
from __future__ import annotations

import re
from abc import ABC, abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from djreset.actions import Actions
    from djreset.config import DatabaseSpec

# Server database names djreset accepts: they need no quoting anywhere, in SQL,
# in a shell or in a file name.  Identifiers are still quoted by the driver.
SERVER_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]*$")


def check_server_name(name: str, max_length: int) -> str | None:
    if not SERVER_NAME.match(name):
        return f"{name!r}: database names may use ASCII letters, digits, '_' and '-' only"
    if len(name) > max_length:
        return f"{name!r}: longer than {max_length} characters"
    return None


class Engine(ABC):
    name: ClassVar[str]
    aliases: ClassVar[tuple[str, ...]] = ()
    # Django ENGINE values that mean this engine (plus suffixes for wrappers
    # such as django-prometheus or PostGIS backends).
    django_backends: ClassVar[tuple[str, ...]] = ()
    backend_suffixes: ClassVar[tuple[str, ...]] = ()
    # The database is a file named by a path (relative to reset.yaml).
    file_based: ClassVar[bool] = False
    # Keys this engine accepts in a reset.yaml database block, with their types.
    settings_keys: ClassVar[dict[str, type]] = {}

    def __init__(self, spec: "DatabaseSpec"):
        self.spec = spec

    @classmethod
    def check_name(cls, name: str) -> str | None:
        """Why ``name`` is refused as a database name, or None if it is fine."""
        return None

    @classmethod
    @abstractmethod
    def from_django(cls, alias: str, settings_dict: dict) -> "Engine":
        """An engine for a DATABASES entry of the project's settings."""

    @property
    def alias(self) -> str:
        return self.spec.alias

    @abstractmethod
    def describe(self) -> str:
        """Engine, host and name, for the user; never the password."""

    @abstractmethod
    def django_settings(self) -> dict[str, Any]:
        """The DATABASES entry that makes Django use this database."""

    @abstractmethod
    def exists(self) -> bool: ...

    @abstractmethod
    def drop(self, actions: "Actions", *, if_exists: bool = True, force: bool = False) -> None: ...

    @abstractmethod
    def create(self, actions: "Actions", *, if_not_exists: bool = False, exists: bool | None = None) -> None:
        """Create the database empty.  ``exists`` overrides the check (a dry
        run that has just "dropped" it knows better than the server)."""

    @abstractmethod
    def backup(self, folder: Path) -> Path:
        """Dump the whole database into ``folder``; return the dump's path."""

    @abstractmethod
    def restore(self, actions: "Actions", dump: Path) -> None:
        """Replace the database with the dump made by :meth:`backup`."""

    @abstractmethod
    def scratch(self, tag: str) -> "Engine":
        """An engine for a throwaway sibling database (same server, new name)."""

    def is_local(self) -> bool:
        """On this machine (a file, a socket, or a loopback address)."""
        host = getattr(self.spec, "host", None) or ""
        return self.file_based or host in ("", "localhost", "127.0.0.1", "::1") or host.startswith("/")

    def remember_before_drop(self) -> dict[str, Any]:
        """Facts about the database that create-db should bring back."""
        return {}

    def recreate_with(self, facts: dict[str, Any]) -> None:
        """Use facts saved by :meth:`remember_before_drop` when creating."""
