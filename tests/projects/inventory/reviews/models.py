from django.db import models


class Review(models.Model):
    book = models.ForeignKey("library.Book", on_delete=models.CASCADE)
    stars = models.PositiveSmallIntegerField()
