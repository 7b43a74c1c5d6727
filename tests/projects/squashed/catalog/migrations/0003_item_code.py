from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("catalog", "0002_item_price")]  # squashmigrations leaves later migrations on the original

    operations = [migrations.AddField("item", "code", models.CharField(blank=True, default="", max_length=10))]
