"""DatabaseSpec: what an engine is built from (reset.yaml or Django's DATABASES)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from djreset.errors import Where
from djreset.secrets import Secret


@dataclass(frozen=True)
class DatabaseSpec:
    """One database as reset.yaml names it, with ``${VAR}`` already resolved."""

    alias: str
    engine: str
    name: str
    user: str | None = None
    password: Secret | None = None
    host: str | None = None
    port: int | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    admin_user: str | None = None
    admin_password: Secret | None = None
    # Engine-specific settings (owner, encoding, charset, ...), see engines.
    extra: Mapping[str, Any] = field(default_factory=dict)
    where: Where | None = None
