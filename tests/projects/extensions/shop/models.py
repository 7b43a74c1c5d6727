from django.contrib.postgres.fields import HStoreField
from django.contrib.postgres.indexes import GinIndex
from django.db import models

from shop.fields import CaseInsensitiveText


class Item(models.Model):
    name = models.CharField(max_length=100)
    attributes = HStoreField(default=dict)
    code = CaseInsensitiveText(default="")

    class Meta:
        indexes = [GinIndex(fields=["name"], opclasses=["gin_trgm_ops"], name="item_name_trgm")]
