import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("left", "0001_initial"),
        ("right", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="book",
            name="author",
            field=models.ForeignKey(default=1, on_delete=django.db.models.deletion.CASCADE, related_name="books", to="left.author"),
            preserve_default=False,
        ),
    ]
