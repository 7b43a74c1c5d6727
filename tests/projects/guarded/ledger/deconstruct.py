"""As NetBox does: choices, help texts and verbose names never make a migration."""
from django.db import models

EXEMPT = ("choices", "help_text", "verbose_name")
_deconstruct = models.Field.deconstruct


def without_exempt(field):
    name, path, args, kwargs = _deconstruct(field)
    for attr in EXEMPT:
        kwargs.pop(attr, None)
    return name, path, args, kwargs
