from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [("shop", "0005_item_code")]

    operations = [
        migrations.CreateModel(
            name="Rate",
            fields=[("id", models.BigAutoField(primary_key=True, serialize=False)), ("value", models.IntegerField())],
            options={"db_table": "legacy_rates", "managed": False},
        ),
        migrations.AddField("item", "rate", models.ForeignKey(null=True, on_delete=models.DO_NOTHING, to="shop.rate")),
    ]
