from django.core.management.base import BaseCommand

from parts.models import Part


class Command(BaseCommand):
    def handle(self, *args, **options):
        Part.objects.create(name="Bolt", code="B-1", bin="a1")
        Part.objects.create(name="Nut", code="N-1", active=False)
