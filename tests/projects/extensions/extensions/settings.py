"""Extensions made by migrations (PostgreSQL only): HStoreExtension() before the CreateModel
in 0001_initial, as Django's documentation places it, with an unlisted app depending on that
migration; pg_trgm made by a RunSQL of its own and used by an index's operator class; citext made
by an unlisted app whose migration shop's depends on by hand; a table for an unmanaged model made by
a RunSQL of the model-less app legacy, run_before shop's migration."""
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = "test-only"
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.postgres", "shop", "reviews", "zext", "legacy"]
# The tests put a PostgreSQL database here (test_settings.py).
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "db.sqlite3"}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
