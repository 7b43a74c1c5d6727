from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [("library", "0007_load_settings")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AddField("author", "slug", models.SlugField(blank=True, default=""))],
            database_operations=[migrations.AddField("author", "slug", models.SlugField(blank=True, default=""))],
        ),
    ]
