from django.conf import settings
from django.core.management.base import CommandError
from django.core.management.commands.makemigrations import Command as MakeMigrations
from django.db import models

from ledger.deconstruct import without_exempt

# Imported, the command changes what every field deconstructs to (NetBox's makemigrations and migrate do).
models.Field.deconstruct = without_exempt


class Command(MakeMigrations):
    """The project's own makemigrations: migrations are reviewed, so it needs a setting on."""

    def handle(self, *app_labels, **options):
        if not settings.ALLOW_MAKEMIGRATIONS:
            raise CommandError("makemigrations is disabled here (set LEDGER_ALLOW_MAKEMIGRATIONS=1)")
        return super().handle(*app_labels, **options)
