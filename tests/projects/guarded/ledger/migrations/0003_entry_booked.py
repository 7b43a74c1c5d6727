from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [("ledger", "0002_entry_memo")]

    operations = [migrations.AddField("entry", "booked", models.DateField(null=True))]
