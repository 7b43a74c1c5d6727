from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("shelf", "0001_initial")]
    operations = [migrations.SeparateDatabaseAndState(state_operations=[migrations.DeleteModel("Box")])]
