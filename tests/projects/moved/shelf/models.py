from django.db import models


class Shelf(models.Model):
    name = models.CharField(max_length=50)


class Crate(models.Model):  # came from intake, its table kept
    label = models.CharField(max_length=50)

    class Meta:
        db_table = "intake_crate"
