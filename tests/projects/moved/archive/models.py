from django.db import models


class Box(models.Model):  # came from shelf, its table kept
    label = models.CharField(max_length=50)

    class Meta:
        db_table = "shelf_box"
