from django.core.management.base import BaseCommand

from stock.models import Item, Note, Supplier


class Command(BaseCommand):
    help = "A few rows, so a reset has data to keep."

    def handle(self, *args, **options):
        supplier = Supplier.objects.create(name="Acme")
        Item.objects.create(name="bolt", code="B1", email="a@example.com", price=5, qty=3, body="x" * 30, supplier=supplier)
        Note.objects.create(text="hello")
