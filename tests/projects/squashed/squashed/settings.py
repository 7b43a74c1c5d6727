"""A project that squashed its migrations, as large projects do: catalog kept its
squash (with replaces) and deleted what it replaced, orders still has both, and
reports (not reset) depends on a migration catalog's squash replaced."""
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = "test-only"
INSTALLED_APPS = ["django.contrib.contenttypes", "catalog", "orders", "reports"]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "db.sqlite3"}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
