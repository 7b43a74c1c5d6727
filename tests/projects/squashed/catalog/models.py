from django.db import models


class Item(models.Model):
    name = models.CharField(max_length=50)
    price = models.IntegerField(default=0)
    code = models.CharField(max_length=10, blank=True, default="")
