import django.db.models.functions.text
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [("parts", "0001_initial")]

    operations = [
        migrations.AddIndex("part", models.Index(django.db.models.functions.text.Lower("name"), name="part_lower_name")),
        migrations.AddConstraint("part", models.UniqueConstraint(django.db.models.functions.text.Lower("code"), name="part_code_ci_unique")),
    ]
