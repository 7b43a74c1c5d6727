from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [("shop", "0001_initial")]

    operations = [
        migrations.CreateModel(
            name="Review",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("stars", models.PositiveSmallIntegerField()),
                ("item", models.ForeignKey(on_delete=models.deletion.CASCADE, to="shop.item")),
            ],
        ),
    ]
