"""djreset as a Django app: ``"djreset"`` in INSTALLED_APPS.

It adds ``manage.py djreset <task>`` (djreset/management/) and registers
djreset's system checks, all from :mod:`djreset.bridge.system_checks`.  It has
no models and no migrations.
"""
from __future__ import annotations

from django.apps import AppConfig


class DjresetConfig(AppConfig):
    name = "djreset"
    verbose_name = "djreset"

    def ready(self) -> None:
        from djreset.bridge import system_checks

        system_checks.register()
