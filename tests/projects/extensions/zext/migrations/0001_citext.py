from django.db import migrations


class Migration(migrations.Migration):

    operations = [migrations.RunSQL("CREATE EXTENSION IF NOT EXISTS citext;", migrations.RunSQL.noop)]
