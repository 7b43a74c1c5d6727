"""One app whose schema carries what verify must see beyond columns: CHECK
expressions, partial, deferrable and functional unique constraints, partial,
opclass and expression indexes, a generated column, a table comment, a
column collation, a JSON column and (on MariaDB) a prefix index a kept
migration makes.  Django leaves out on each database what it does not
support there, as it does for a real project."""
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = "test-only"
INSTALLED_APPS = ["django.contrib.contenttypes", "stock"]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "db.sqlite3"}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
SILENCED_SYSTEM_CHECKS = ["models.W036", "models.W037", "models.W038", "models.W043", "models.W044", "models.W045", "models.W046"]
