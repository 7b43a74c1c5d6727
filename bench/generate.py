"""Generate a synthetic Django project: N apps × M migrations.

app00 holds the custom user model; every app has an Item model that points at
the user and (from app01 on) at the previous app's Item; every fifth
migration also depends on the next app's previous migration, so the graph
crosses apps the way real projects do.  Migrations 0002..M each add a field.
With ``--models K`` each app also has K-1 more models, each with a foreign
key, a plain index, an expression index (``Lower``), a CHECK and a
two-column UNIQUE constraint: the shape of a large real project.

    python bench/generate.py TARGET --apps 5 --migrations 20 [--models 25]

The project is checked with makemigrations --check: its models and its
migrations agree, as in a healthy project before a reset.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import textwrap
from pathlib import Path

SETTINGS = """\
import json
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = "bench"
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", {apps}]
DATABASES = {{"default": {{"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "db.sqlite3"}}}}
if "BENCH_DATABASE" in os.environ:  # a server database (bench/run.py --large)
    DATABASES = {{"default": json.loads(os.environ["BENCH_DATABASE"])}}
AUTH_USER_MODEL = "app00.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
"""

MANAGE = """\
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchproject.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
"""

RESET_YAML = """\
project: {{root: ., settings: benchproject.settings}}
apps: [{apps}]
environments:
  keep:
    database: {{engine: sqlite, name: db.sqlite3}}
    steps: [check, verify, clean-files, makemigrations, record-new, verify]
  keep-noverify:
    extends: keep
    steps: [check, clean-files, makemigrations, record-new]
"""


def app_name(index: int) -> str:
    return f"app{index:02d}"


def thing_source(index: int, number: int) -> list[str]:
    """One of the extra models of a wide app: indexes and constraints of every kind."""
    name = f"t{index:02d}_{number:02d}"
    return [
        "", "", f"class Thing{number}(models.Model):",
        "    name = models.CharField(max_length=100)",
        "    code = models.CharField(max_length=20)",
        "    amount = models.IntegerField(default=0)",
        "    note = models.TextField(blank=True, default='')",
        f"    item = models.ForeignKey(Item{index}, on_delete=models.CASCADE, related_name='+')",
        "",
        "    class Meta:",
        f"        indexes = [models.Index(fields=['code'], name='{name}_code'), models.Index(Lower('name'), name='{name}_lname')]",
        f"        constraints = [models.CheckConstraint(condition=models.Q(amount__gte=0), name='{name}_amount'),",
        f"                       models.UniqueConstraint(fields=['code', 'item'], name='{name}_uniq')]",
    ]


def models_source(index: int, apps: int, fields: list[int], models_per_app: int = 1) -> str:
    lines = ["from django.conf import settings", "from django.db import models", "from django.db.models.functions import Lower", ""]
    if index == 0:
        lines[0:0] = ["from django.contrib.auth.models import AbstractUser"]
        lines += ["", "class User(AbstractUser):", "    pass", ""]
    lines += ["", f"class Item{index}(models.Model):", "    name = models.CharField(max_length=100)",
              "    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name='+')"]
    if index > 0 and 2 in fields:
        lines.append(f"    parent = models.ForeignKey('{app_name(index - 1)}.Item{index - 1}', null=True, on_delete=models.SET_NULL, related_name='+')")
    lines += [f"    f{number} = models.IntegerField(default=0)" for number in fields if number > 2 or (number == 2 and index == 0)]
    for number in range(1, models_per_app):
        lines += thing_source(index, number)
    return "\n".join(lines) + "\n"


def migration_name(number: int) -> str:
    return f"{number:04d}_item_f{number}"


def migration_source(index: int, apps: int, number: int) -> str:
    app, model = app_name(index), f"item{index}"
    dependencies = [(app, "0001_initial" if number == 2 else migration_name(number - 1))]
    if number == 2 and index > 0:
        dependencies.append((app_name(index - 1), "0001_initial"))
    if number % 5 == 0 and apps > 1:
        other = (index + 1) % apps
        dependencies.append((app_name(other), migration_name(number - 1) if number - 1 >= 2 else "0001_initial"))
    if number == 2 and index > 0:
        operation = (f"migrations.AddField(model_name='{model}', name='parent', field=models.ForeignKey("
                     f"null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='{app_name(index - 1)}.item{index - 1}'))")
    else:
        operation = f"migrations.AddField(model_name='{model}', name='f{number}', field=models.IntegerField(default=0))"
    deps = "".join(f"        {dep!r},\n" for dep in dependencies)
    return (
        "import django.db.models.deletion\nfrom django.db import migrations, models\n\n\n"
        f"class Migration(migrations.Migration):\n    dependencies = [\n{deps}    ]\n    operations = [\n        {operation},\n    ]\n"
    )


def generate(target: Path, apps: int, migrations: int, models_per_app: int = 1, env: dict | None = None) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    (target / "benchproject").mkdir(exist_ok=True)
    (target / "benchproject" / "__init__.py").write_text("")
    labels = [app_name(i) for i in range(apps)]
    (target / "benchproject" / "settings.py").write_text(SETTINGS.format(apps=", ".join(repr(label) for label in labels)))
    (target / "manage.py").write_text(MANAGE)
    (target / "reset.yaml").write_text(RESET_YAML.format(apps=", ".join(labels)))
    for index, label in enumerate(labels):
        folder = target / label / "migrations"
        folder.mkdir(parents=True, exist_ok=True)
        (target / label / "__init__.py").write_text("")
        (folder / "__init__.py").write_text("")
        (target / label / "models.py").write_text(models_source(index, apps, [], models_per_app))
    # The initial migrations come from Django itself (the custom user model's
    # fields differ between Django versions); the rest from the template.
    subprocess.run([sys.executable, "manage.py", "makemigrations", *labels, "-v0"], cwd=target, check=True, env=env)
    for index, label in enumerate(labels):
        fields = list(range(2, migrations + 1))
        for number in fields:
            (target / label / "migrations" / f"{migration_name(number)}.py").write_text(migration_source(index, apps, number))
        (target / label / "models.py").write_text(models_source(index, apps, fields, models_per_app))
    check = subprocess.run([sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"], cwd=target, capture_output=True, text=True, env=env)
    if check.returncode != 0:
        raise SystemExit(f"generate: models and migrations disagree:\n{check.stdout}{check.stderr}")
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", type=Path)
    parser.add_argument("--apps", type=int, default=5)
    parser.add_argument("--migrations", type=int, default=20)
    parser.add_argument("--models", type=int, default=1, help="models per app (1: the Item only)")
    args = parser.parse_args()
    generate(args.target, args.apps, args.migrations, args.models)
    print(textwrap.dedent(f"generated {args.apps} apps × {args.migrations} migrations in {args.target}"))


if __name__ == "__main__":
    main()
