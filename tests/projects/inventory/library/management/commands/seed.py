from django.core.management.base import BaseCommand

from library.models import Author, Book, Genre
from reviews.models import Review


class Command(BaseCommand):
    help = "Some books and reviews, as users would have added them."

    def handle(self, *args, **options):
        poetry = Genre.objects.get(name="Poetry")
        author = Author.objects.create(name="Ada", slug="ada")
        book = Book.objects.create(title="Verses", author=author, genre=poetry, isbn="9780000000001")
        Book.objects.create(title="Prose", author=author)
        Review.objects.create(book=book, stars=5)
