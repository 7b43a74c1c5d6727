"""Dump a project's database as JSON, using Django's own introspection.

Run by the tests in a subprocess, inside a project copy:

    python introspect.py SETTINGS_MODULE [DATABASES-JSON]

Prints {"schema": {...}, "rows": {...}, "history": [...]}: every table's
columns and constraints, every table's rows (sorted), and django_migrations
without the applied timestamps.
"""
import json
import os
import sys

sys.path.insert(0, os.getcwd())
os.environ["DJANGO_SETTINGS_MODULE"] = sys.argv[1]

import django
from django.conf import settings

if len(sys.argv) > 2:
    settings.DATABASES["default"] = json.loads(sys.argv[2])
django.setup()

from django.db import connection  # noqa: E402


def field_type(cursor, description):
    """Django's name for a column type; an extension's type (hstore) by its name, as its id differs per database."""
    try:
        return connection.introspection.get_field_type(description.type_code, description)
    except KeyError:
        cursor.execute("SELECT typname FROM pg_type WHERE oid = %s", [description.type_code])
        return cursor.fetchone()[0]


def table_schema(cursor, table):
    intro = connection.introspection
    columns = [
        {"name": c.name, "type": field_type(cursor, c), "null": bool(c.null_ok)}
        for c in intro.get_table_description(cursor, table)
    ]
    constraints = []
    for info in intro.get_constraints(cursor, table).values():
        constraints.append(
            {
                "columns": info["columns"],
                "primary_key": info["primary_key"],
                "unique": info["unique"],
                "foreign_key": list(info["foreign_key"]) if info["foreign_key"] else None,
                "index": info["index"],
                "check": info["check"],
            }
        )
    constraints.sort(key=json.dumps)
    return {"columns": sorted(columns, key=lambda c: c["name"]), "constraints": constraints}


with connection.cursor() as cursor:
    tables = sorted(t.name for t in connection.introspection.get_table_list(cursor) if t.type == "t")
    schema = {table: table_schema(cursor, table) for table in tables}
    rows = {}
    for table in tables:
        if table == "django_migrations":
            continue
        quoted = connection.ops.quote_name(table)
        cursor.execute(f"SELECT * FROM {quoted}")
        rows[table] = sorted(json.dumps(list(row), default=str) for row in cursor.fetchall())
    history, history_rows = [], []
    if "django_migrations" in tables:
        cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
        history = [list(row) for row in cursor.fetchall()]
        cursor.execute("SELECT id, app, name, applied FROM django_migrations ORDER BY id")
        history_rows = [[str(value) for value in row] for row in cursor.fetchall()]

print(json.dumps({"schema": schema, "rows": rows, "history": history, "history_rows": history_rows}))
