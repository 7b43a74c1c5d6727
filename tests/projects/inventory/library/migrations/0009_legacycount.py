import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [("library", "0008_author_slug")]

    operations = [
        migrations.CreateModel(
            name="LegacyCount",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("books", models.IntegerField(default=0)),
                ("genre", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to="library.genre")),
            ],
        ),
    ]
