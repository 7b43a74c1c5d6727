"""Expression and functional indexes and unique constraints, added over a few migrations."""
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = "test-only"
INSTALLED_APPS = ["django.contrib.contenttypes", "parts"]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "db.sqlite3"}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
# MariaDB has no functional indexes: Django skips them there and says so.
SILENCED_SYSTEM_CHECKS = ["models.W043", "models.W044"]
