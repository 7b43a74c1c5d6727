from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [("core", "0001_natural_sort")]

    operations = [
        migrations.CreateModel(
            name="Prefix",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("prefix", models.CharField(max_length=43)),
            ],
        ),
    ]
