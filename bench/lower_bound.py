"""The lower bound: only the work no reset can skip, in one process.

Run inside a project: ``python lower_bound.py SETTINGS APP...``.  Deletes the
apps' rows in django_migrations in one statement, deletes their migration
files, runs makemigrations once, records the new migrations in one insert.
No checks, no backup, no verification: what is left when all of that is free.
"""
import os
import sys
from pathlib import Path

sys.path.insert(0, os.getcwd())
os.environ["DJANGO_SETTINGS_MODULE"] = sys.argv[1]
apps = sys.argv[2:]

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.migrations.loader import MigrationLoader  # noqa: E402
from django.db.migrations.recorder import MigrationRecorder  # noqa: E402

recorder = MigrationRecorder(connection)
recorder.migration_qs.filter(app__in=apps).delete()
for app in apps:
    for path in Path(app, "migrations").glob("[0-9]*.py"):
        path.unlink()
call_command("makemigrations", *apps, verbosity=0)
loader = MigrationLoader(None, ignore_no_migrations=True)
recorder.Migration.objects.bulk_create(recorder.Migration(app=app, name=name) for app, name in loader.disk_migrations if app in apps)
