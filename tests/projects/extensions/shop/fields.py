from django.db import models


class CaseInsensitiveText(models.TextField):
    """A citext column: the extension comes from zext's migration, which shop's depends on by hand."""

    def db_type(self, connection):
        return "citext"
