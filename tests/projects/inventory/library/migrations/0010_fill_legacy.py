from django.db import migrations


def fill(apps, schema_editor):
    Genre = apps.get_model("library", "Genre")
    LegacyCount = apps.get_model("library", "LegacyCount")
    db = schema_editor.connection.alias
    for genre in Genre.objects.using(db).all():
        LegacyCount.objects.using(db).create(genre=genre, books=0)


class Migration(migrations.Migration):

    dependencies = [("library", "0009_legacycount")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
