from django.db import models


class Prefix(models.Model):
    prefix = models.CharField(max_length=43)
    description = models.CharField(max_length=200, blank=True, db_collation="natural_sort")
