"""Django's terminal colours, for djreset's output (ui.py never imports Django)."""
from __future__ import annotations

from typing import Any


def django_style() -> Any:
    """The style of Django's management commands (SUCCESS, WARNING, ERROR, NOTICE...), with
    DJANGO_COLORS applied; the caller has decided the output should be coloured."""
    from django.core.management.color import color_style

    return color_style(force_color=True)
