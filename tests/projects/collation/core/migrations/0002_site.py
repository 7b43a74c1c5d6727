from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [("core", "0001_natural_sort")]

    operations = [
        migrations.CreateModel(
            name="Site",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(db_collation="natural_sort", max_length=100)),
            ],
        ),
    ]
