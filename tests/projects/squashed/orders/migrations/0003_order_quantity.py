from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("orders", "0002_order_note")]

    operations = [migrations.AddField("order", "quantity", models.PositiveIntegerField(default=1))]
