from django.db import models


class Order(models.Model):
    item = models.ForeignKey("catalog.Item", on_delete=models.CASCADE)
    note = models.CharField(max_length=100, blank=True)
    quantity = models.PositiveIntegerField(default=1)
