from django.db import migrations


def backfill(apps, schema_editor):
    Book = apps.get_model("library", "Book")
    for book in Book.objects.using(schema_editor.connection.alias).filter(isbn=""):
        book.isbn = "0" * 13
        book.save(update_fields=["isbn"])
    Book.objects.using(schema_editor.connection.alias).filter(isbn__isnull=True).update(isbn="")


class Migration(migrations.Migration):

    dependencies = [("library", "0004_book_isbn")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
