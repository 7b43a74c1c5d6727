from django.core.management.base import BaseCommand

from archive.models import Box
from shelf.models import Crate, Shelf


class Command(BaseCommand):
    def handle(self, *args, **options):
        Shelf.objects.create(name="top")
        Box.objects.create(label="winter clothes")
        Crate.objects.create(label="apples")
