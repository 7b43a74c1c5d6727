from django.db import migrations

import shop.fields


class Migration(migrations.Migration):

    dependencies = [("shop", "0004_seed_items"), ("zext", "0001_citext")]

    operations = [migrations.AddField("item", "code", shop.fields.CaseInsensitiveText(default=""))]
