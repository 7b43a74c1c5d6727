from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = [("shelf", "0002_box_moves_out")]
    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.CreateModel("Box", [("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                                           ("label", models.CharField(max_length=50))], options={"db_table": "shelf_box"}),
        ]),
    ]
