from django.db import migrations


def recount(apps, schema_editor):
    Genre = apps.get_model("library", "Genre")
    Genre.objects.using(schema_editor.connection.alias).create(name="Recounted")


class Migration(migrations.Migration):

    dependencies = [("library", "0011_delete_legacycount")]

    operations = [migrations.RunPython(recount, migrations.RunPython.noop, elidable=True)]
