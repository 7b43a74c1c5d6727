from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("orders", "0001_initial")]

    operations = [migrations.AddField("order", "note", models.CharField(blank=True, max_length=100))]
