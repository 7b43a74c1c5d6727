from django.db import models


class Author(models.Model):
    name = models.CharField(max_length=100)
    favourite_book = models.ForeignKey("right.Book", null=True, blank=True, on_delete=models.SET_NULL, related_name="fans")
