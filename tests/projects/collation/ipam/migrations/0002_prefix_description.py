from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [("ipam", "0001_initial")]

    operations = [
        migrations.AddField("prefix", "description", models.CharField(blank=True, db_collation="natural_sort", max_length=200, default="")),
        migrations.AlterField("prefix", "description", models.CharField(blank=True, db_collation="natural_sort", max_length=200)),
    ]
