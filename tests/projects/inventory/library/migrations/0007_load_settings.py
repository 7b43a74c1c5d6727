from django.db import migrations

DEFAULTS = {"site_name": "Library", "per_page": "20"}


def load(apps, schema_editor):
    SiteSetting = apps.get_model("library", "SiteSetting")
    for key, value in DEFAULTS.items():
        SiteSetting.objects.using(schema_editor.connection.alias).get_or_create(key=key, defaults={"value": value})


class Migration(migrations.Migration):

    dependencies = [("library", "0006_sitesetting")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
