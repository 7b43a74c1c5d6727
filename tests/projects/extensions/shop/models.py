from django.contrib.postgres.fields import HStoreField
from django.contrib.postgres.indexes import GinIndex
from django.db import models

from shop.fields import CaseInsensitiveText


class Rate(models.Model):
    """A table a kept RunSQL of the model-less app legacy makes (run_before shop's migration)."""

    id = models.BigAutoField(primary_key=True)
    value = models.IntegerField()

    class Meta:
        managed = False
        db_table = "legacy_rates"


class Item(models.Model):
    name = models.CharField(max_length=100)
    attributes = HStoreField(default=dict)
    code = CaseInsensitiveText(default="")
    rate = models.ForeignKey(Rate, null=True, on_delete=models.DO_NOTHING)

    class Meta:
        indexes = [GinIndex(fields=["name"], opclasses=["gin_trgm_ops"], name="item_name_trgm")]
