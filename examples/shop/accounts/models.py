from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    """The shop's customer and staff account (the project's AUTH_USER_MODEL)."""

    phone = models.CharField(max_length=32, blank=True, default="")
    loyalty_points = models.PositiveIntegerField(default=0)


class Address(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="addresses")
    city = models.CharField(max_length=100)
    street = models.CharField(max_length=200)

    def __str__(self):
        return f"{self.street}, {self.city}"
