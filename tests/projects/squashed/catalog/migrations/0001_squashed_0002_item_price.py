from django.db import migrations, models


class Migration(migrations.Migration):
    replaces = [("catalog", "0001_initial"), ("catalog", "0002_item_price")]

    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="Item",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=50)),
                ("price", models.IntegerField(default=0)),
            ],
        ),
    ]
