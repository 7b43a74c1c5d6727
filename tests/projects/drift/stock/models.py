from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower

# A binary collation each database has under its own name.
ENGINE = settings.DATABASES["default"]["ENGINE"]
BINARY = "utf8mb4_bin" if "mysql" in ENGINE else "C" if "postgresql" in ENGINE else "BINARY"


def unique_constraints():
    """Conditional, deferrable and functional unique constraints, where the database
    has them.  (On MariaDB, Django 5.2's CreateModel fails on them instead of skipping them.)"""
    if "mysql" in ENGINE:
        return []
    return [
        models.UniqueConstraint(fields=["email"], condition=Q(active=True), name="uniq_active_email"),
        models.UniqueConstraint(fields=["name"], name="uniq_name_deferred", deferrable=models.Deferrable.DEFERRED),
        models.UniqueConstraint(Lower("code"), name="uniq_lower_code"),
    ]


class Supplier(models.Model):
    name = models.CharField(max_length=50)


class Note(models.Model):
    text = models.CharField(max_length=50)


class Item(models.Model):
    name = models.CharField(max_length=50)
    code = models.CharField(max_length=20, default="", db_collation=BINARY)
    email = models.CharField(max_length=50, default="")
    active = models.BooleanField(default=True)
    price = models.IntegerField(default=0)
    qty = models.IntegerField(default=0)
    double = models.GeneratedField(expression=F("qty") * 2, output_field=models.IntegerField(), db_persist=True)
    body = models.TextField(default="")
    data = models.JSONField(default=dict)
    supplier = models.ForeignKey(Supplier, on_delete=models.CASCADE, null=True)

    class Meta:
        db_table_comment = "items table"
        constraints = [
            models.CheckConstraint(condition=Q(price__gte=0), name="price_pos"),
            *unique_constraints(),
        ]
        indexes = [
            models.Index(fields=["price"], name="price_partial", condition=Q(price__gt=100)),
            models.Index(fields=["email"], name="email_pattern", opclasses=["varchar_pattern_ops"]),
            models.Index(Lower("name"), name="lower_name_idx"),
        ]
