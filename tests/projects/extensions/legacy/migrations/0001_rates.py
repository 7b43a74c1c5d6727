from django.db import migrations


class Migration(migrations.Migration):

    run_before = [("shop", "0006_rate")]

    operations = [migrations.RunSQL("CREATE TABLE legacy_rates (id bigserial PRIMARY KEY, value integer NOT NULL)", "DROP TABLE legacy_rates")]
