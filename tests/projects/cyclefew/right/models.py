from django.db import models


class Book(models.Model):
    title = models.CharField(max_length=100)
    author = models.ForeignKey("left.Author", on_delete=models.CASCADE, related_name="books")
    pages = models.PositiveIntegerField(default=0)
