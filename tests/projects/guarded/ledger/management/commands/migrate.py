from django.core.management.commands.migrate import Command  # noqa: F401 - Django's own, with the patch below
from django.db import models

from ledger.deconstruct import without_exempt

models.Field.deconstruct = without_exempt
