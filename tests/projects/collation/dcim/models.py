from django.db import models


class Device(models.Model):
    name = models.CharField(max_length=64, db_collation="natural_sort")
    site = models.ForeignKey("core.Site", on_delete=models.PROTECT)
