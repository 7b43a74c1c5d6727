"""djreset's checks in Django's system check framework, registered from one place.

DjresetConfig.ready() calls :func:`register`.  A check is a plain function
``check(app_configs, databases=None, **kwargs) -> list[CheckMessage]``; put it
in CHECKS with its tags.  One tagged ``Tags.database`` runs only when Django
asks for database checks (``migrate`` does, before it changes anything;
``manage.py check --database default`` too), so ``manage.py check`` and
runserver stay fast and never connect.  The deploy guard
(:func:`djreset.bridge.guard.partial_history`) is one: ``migrate`` stops on a
database that applied only part of the old history of a reset app.
"""
from __future__ import annotations

from typing import Any, Callable

from djreset.bridge import guard

# (check function, tags): the checks djreset adds to every project that installs the app.
CHECKS: list[tuple[Callable[..., list[Any]], tuple[str, ...]]] = [
    (guard.partial_history, ("database",)),
]


def register() -> None:
    from django.core import checks

    for check, tags in CHECKS:
        checks.register(check, *tags)
