from django.db import models


class Account(models.Model):
    name = models.CharField(max_length=50, unique=True)


class Entry(models.Model):
    account = models.ForeignKey(Account, on_delete=models.PROTECT)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    memo = models.CharField(max_length=100, blank=True, help_text="free text, shown on statements")
    booked = models.DateField(null=True, verbose_name="booked on")


class AuditEntry(models.Model):
    kind = models.ForeignKey("contenttypes.ContentType", on_delete=models.PROTECT)
    object_pk = models.CharField(max_length=40)
