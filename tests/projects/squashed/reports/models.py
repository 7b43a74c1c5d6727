from django.db import models


class Report(models.Model):
    item = models.ForeignKey("catalog.Item", on_delete=models.CASCADE)
    total = models.IntegerField(default=0)
