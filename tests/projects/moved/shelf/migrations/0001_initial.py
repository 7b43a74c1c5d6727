from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [
        migrations.CreateModel("Shelf", [("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                                         ("name", models.CharField(max_length=50))]),
        migrations.CreateModel("Box", [("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                                       ("label", models.CharField(max_length=50))]),
    ]
