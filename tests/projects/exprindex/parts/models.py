from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower, Upper


class Part(models.Model):
    name = models.CharField(max_length=100)
    code = models.CharField(max_length=20)
    bin = models.CharField(max_length=20, default="")
    active = models.BooleanField(default=True)

    class Meta:
        indexes = [
            models.Index(Lower("name"), name="part_lower_name"),
            models.Index(Upper("bin"), F("code").desc(), name="part_bin_code"),
        ]
        constraints = [
            models.UniqueConstraint(Lower("code"), name="part_code_ci_unique"),
            models.UniqueConstraint(fields=["bin", "name"], condition=Q(active=True), name="part_active_bin_name"),
        ]
