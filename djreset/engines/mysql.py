"""MySQL and MariaDB (placeholder until the engines issue lands)."""
from __future__ import annotations

from djreset.engines.base import Engine


class MySQLEngine(Engine):
    name = "mysql"
    aliases = ("mariadb",)
    django_backends = ("django.db.backends.mysql", "django.contrib.gis.db.backends.mysql")
