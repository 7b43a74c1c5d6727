from django.db import models


class Fan(models.Model):
    name = models.CharField(max_length=100)
    author = models.ForeignKey("left.Author", on_delete=models.CASCADE, related_name="followers")
