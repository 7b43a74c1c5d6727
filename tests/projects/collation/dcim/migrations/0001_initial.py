import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [("core", "0002_site")]

    operations = [
        migrations.CreateModel(
            name="Device",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(db_collation="natural_sort", max_length=64)),
                ("site", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, to="core.site")),
            ],
        ),
    ]
