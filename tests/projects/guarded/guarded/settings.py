"""A project whose own code gets in the way of the hand recipe: a pre_delete receiver on every
model that needs an audit service, and a makemigrations that refuses unless a setting is on."""
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = "test-only"
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "ledger.apps.LedgerConfig"]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "db.sqlite3"}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
# New migrations are reviewed: makemigrations refuses unless this is on.
ALLOW_MAKEMIGRATIONS = os.environ.get("LEDGER_ALLOW_MAKEMIGRATIONS") == "1"
