from django.core.management.base import BaseCommand

from catalog.models import Item
from orders.models import Order
from reports.models import Report


class Command(BaseCommand):
    def handle(self, *args, **options):
        pen = Item.objects.create(name="pen", price=3, code="P1")
        Order.objects.create(item=pen, note="first", quantity=2)
        Report.objects.create(item=pen, total=6)
