"""Models moved between apps the Django way (SeparateDatabaseAndState, the table kept): Box left shelf
for archive, Crate left intake for shelf.  A reset of shelf alone would leave a fresh database without
shelf_box and with intake_crate created twice."""
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = "test-only"
INSTALLED_APPS = ["django.contrib.contenttypes", "shelf", "archive", "intake"]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "db.sqlite3"}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
