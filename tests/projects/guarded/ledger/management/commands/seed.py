from django.core.management.base import BaseCommand

from ledger.models import Account, Entry


class Command(BaseCommand):
    def handle(self, *args, **options):
        cash = Account.objects.create(name="cash")
        Entry.objects.create(account=cash, amount=10, memo="opening")
        Entry.objects.create(account=cash, amount=-3, memo="coffee")
