from django.core.management.base import BaseCommand

from fans.models import Fan
from left.models import Author
from right.models import Book


class Command(BaseCommand):
    def handle(self, *args, **options):
        ada = Author.objects.create(name="Ada")
        book = Book.objects.create(title="Notes", author=ada, pages=12)
        ada.favourite_book = book
        ada.save()
        Fan.objects.create(name="Grace", author=ada)
