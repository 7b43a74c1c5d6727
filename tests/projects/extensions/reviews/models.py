from django.db import models


class Review(models.Model):
    item = models.ForeignKey("shop.Item", on_delete=models.CASCADE)
    stars = models.PositiveSmallIntegerField()
