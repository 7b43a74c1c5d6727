from django.db import migrations


def seed(apps, schema_editor):
    Item = apps.get_model("shop", "Item")
    Item.objects.bulk_create([Item(name="lamp", attributes={"colour": "red"}), Item(name="desk", attributes={})])


class Migration(migrations.Migration):

    dependencies = [("shop", "0003_item_name_trgm")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
