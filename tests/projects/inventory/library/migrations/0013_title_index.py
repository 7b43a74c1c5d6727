from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [("library", "0012_recount")]

    operations = [
        migrations.RunSQL("CREATE INDEX library_book_title_idx ON library_book (title)", migrations.RunSQL.noop),
    ]
