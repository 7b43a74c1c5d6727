from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [("library", "0010_fill_legacy")]

    operations = [migrations.DeleteModel(name="LegacyCount")]
