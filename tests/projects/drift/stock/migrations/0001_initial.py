import django.db.models.deletion
import django.db.models.expressions
import django.db.models.functions.text
from django.db import migrations, models

from stock.models import BINARY, unique_constraints  # what differs between databases


class Migration(migrations.Migration):

    initial = True

    dependencies = [
    ]

    operations = [
        migrations.CreateModel(
            name='Supplier',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=50)),
            ],
        ),
        migrations.CreateModel(
            name='Item',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=50)),
                ('code', models.CharField(db_collation=BINARY, default='', max_length=20)),
                ('email', models.CharField(default='', max_length=50)),
                ('active', models.BooleanField(default=True)),
                ('price', models.IntegerField(default=0)),
                ('qty', models.IntegerField(default=0)),
                ('double', models.GeneratedField(db_persist=True, expression=django.db.models.expressions.CombinedExpression(models.F('qty'), '*', models.Value(2)), output_field=models.IntegerField())),
                ('body', models.TextField(default='')),
                ('data', models.JSONField(default=dict)),
                ('supplier', models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE, to='stock.supplier')),
            ],
            options={
                'db_table_comment': 'items table',
                'indexes': [models.Index(condition=models.Q(('price__gt', 100)), fields=['price'], name='price_partial'), models.Index(fields=['email'], name='email_pattern', opclasses=['varchar_pattern_ops']), models.Index(django.db.models.functions.text.Lower('name'), name='lower_name_idx')],
                'constraints': [models.CheckConstraint(condition=models.Q(('price__gte', 0)), name='price_pos'), *unique_constraints()],
            },
        ),
    ]
