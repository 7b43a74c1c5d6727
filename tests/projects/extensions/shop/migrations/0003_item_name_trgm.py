import django.contrib.postgres.indexes
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [("shop", "0002_trigram")]

    operations = [
        migrations.AddIndex(
            model_name="item",
            index=django.contrib.postgres.indexes.GinIndex(fields=["name"], name="item_name_trgm", opclasses=["gin_trgm_ops"]),
        ),
    ]
