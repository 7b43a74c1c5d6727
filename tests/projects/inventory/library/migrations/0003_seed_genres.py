# Data migration: every library starts with these genres.
from django.db import migrations

GENRES = ["Poetry", "Novel", "Essay"]


def seed(apps, schema_editor):
    Genre = apps.get_model("library", "Genre")
    Genre.objects.using(schema_editor.connection.alias).bulk_create([Genre(name=name) for name in GENRES])


def unseed(apps, schema_editor):
    Genre = apps.get_model("library", "Genre")
    Genre.objects.using(schema_editor.connection.alias).filter(name__in=GENRES).delete()


class Migration(migrations.Migration):

    dependencies = [("library", "0002_genre")]

    operations = [migrations.RunPython(seed, unseed)]
