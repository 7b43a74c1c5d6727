from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [("ledger", "0001_initial")]

    operations = [migrations.AddField("entry", "memo", models.CharField(blank=True, max_length=100, default=""), preserve_default=False)]
