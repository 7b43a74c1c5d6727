from django.db import migrations


def body_prefix_index(apps, schema_editor):
    # MySQL and MariaDB index a prefix of a text column; the kept migration makes it.
    if schema_editor.connection.vendor == "mysql":
        schema_editor.execute("CREATE INDEX item_body_prefix ON stock_item (body(20))")


class Migration(migrations.Migration):
    dependencies = [("stock", "0002_note")]
    operations = [migrations.RunPython(body_prefix_index, migrations.RunPython.noop, atomic=False)]
