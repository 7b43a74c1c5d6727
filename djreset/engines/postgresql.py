"""PostgreSQL (placeholder until the engines issue lands)."""
from __future__ import annotations

from djreset.engines.base import Engine


class PostgreSQLEngine(Engine):
    name = "postgresql"
    aliases = ("postgres", "postgis")
    django_backends = ("django.db.backends.postgresql", "django.contrib.gis.db.backends.postgis")
