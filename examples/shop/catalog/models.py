from django.db import models


class Category(models.Model):
    name = models.CharField(max_length=100)

    def __str__(self):
        return self.name


class Tag(models.Model):
    name = models.CharField(max_length=50, unique=True)

    def __str__(self):
        return self.name


class Product(models.Model):
    name = models.CharField(max_length=200)
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)
    category = models.ForeignKey(Category, on_delete=models.PROTECT)
    sku = models.CharField(max_length=32, blank=True, default="")
    slug = models.SlugField(max_length=200, blank=True, default="")
    tags = models.ManyToManyField(Tag, blank=True, related_name="products")

    def __str__(self):
        return self.name
