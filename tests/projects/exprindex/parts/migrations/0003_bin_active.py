import django.db.models.expressions
import django.db.models.functions.text
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [("parts", "0002_functional_indexes")]

    operations = [
        migrations.AddField("part", "bin", models.CharField(default="", max_length=20)),
        migrations.AddField("part", "active", models.BooleanField(default=True)),
        migrations.AddIndex(
            "part",
            models.Index(
                django.db.models.functions.text.Upper("bin"), django.db.models.expressions.OrderBy(django.db.models.expressions.F("code"), descending=True), name="part_bin_code"
            ),
        ),
        migrations.AddConstraint(
            "part", models.UniqueConstraint(condition=models.Q(("active", True)), fields=("bin", "name"), name="part_active_bin_name")
        ),
    ]
