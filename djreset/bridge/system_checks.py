"""djreset's checks in Django's system check framework, registered from one place.

DjresetConfig.ready() calls :func:`register`.  A check is a plain function
``check(app_configs, databases=None, **kwargs) -> list[CheckMessage]``; put it
in CHECKS with its tags.  One tagged ``Tags.database`` runs only when Django
asks for database checks (``migrate`` does, before it changes anything;
``manage.py check --database default`` too), so ``manage.py check`` and
runserver stay fast and never connect.  None is registered yet: the deploy
guard (a database check: part of the old history of a reset app applied) is
the first to come.
"""
from __future__ import annotations

from typing import Any, Callable

# (check function, tags): the checks djreset adds to every project that installs the app.
CHECKS: list[tuple[Callable[..., list[Any]], tuple[str, ...]]] = []


def register() -> None:
    from django.core import checks

    for check, tags in CHECKS:
        checks.register(check, *tags)
