from django.db import models


class Author(models.Model):
    name = models.CharField(max_length=100)
    slug = models.SlugField(default="", blank=True)


class Genre(models.Model):
    name = models.CharField(max_length=50, unique=True)


class Book(models.Model):
    title = models.CharField(max_length=200)
    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="books")
    genre = models.ForeignKey(Genre, null=True, blank=True, on_delete=models.SET_NULL)
    isbn = models.CharField(max_length=13, default="")


class SiteSetting(models.Model):
    key = models.CharField(max_length=50, unique=True)
    value = models.CharField(max_length=200)
