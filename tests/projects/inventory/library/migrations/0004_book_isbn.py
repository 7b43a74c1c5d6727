# Split in two by hand once, when the column was added outside Django.
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [("library", "0003_seed_genres")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.AddField("book", "isbn", models.CharField(max_length=13, default=""))],
            state_operations=[migrations.AddField("book", "isbn", models.CharField(max_length=13, default=""))],
        ),
    ]
