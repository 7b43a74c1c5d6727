"""``djreset init``: draft reset.yaml from the project in the current directory.

The draft lists the project's own apps (those under the project root that
have models or migrations, never site-packages or a virtualenv), the settings
module, and each database from the settings, with any password written as a
``${VAR}`` reference, never as its value.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from djreset import engines
from djreset.bridge import DjangoBridge, data_migrations
from djreset.bridge.packages import own_apps
from djreset.config import CONFIG_NAME, DataMigrationPolicy, Project
from djreset.errors import ConfigError

SETTINGS_IN_MANAGE = re.compile(r"""DJANGO_SETTINGS_MODULE["']\s*,\s*["']([\w.]+)["']""")


@dataclass(frozen=True)
class Draft:
    settings: str
    apps: list[str]
    databases: dict[str, dict[str, object]]
    password_variables: list[str]
    data_migrations: list[str]  # origins of operations makemigrations cannot re-create


def find_settings(root: Path, given: str | None) -> str:
    if given:
        return given
    if os.environ.get("DJANGO_SETTINGS_MODULE"):
        return os.environ["DJANGO_SETTINGS_MODULE"]
    manage = root / "manage.py"
    if manage.is_file():
        match = SETTINGS_IN_MANAGE.search(manage.read_text(encoding="utf-8", errors="replace"))
        if match:
            return match.group(1)
    raise ConfigError(f"cannot tell the settings module: no manage.py naming it in {root}; pass --settings")


def _variable(settings: str, alias: str) -> str:
    base = settings.split(".")[0].upper()
    return f"{base}_DB_PASSWORD" if alias == "default" else f"{base}_{alias.upper()}_DB_PASSWORD"


def draft(root: Path, settings: str) -> Draft:
    project = Project(
        config_path=root / CONFIG_NAME, root=root, settings=settings, settings_where=None, apps=(), app_where={},
        default_env=None, backup_dir=root / ".djreset" / "backups", backups_enabled=True, dump_database=True,
        data_migrations=DataMigrationPolicy(),
    )
    bridge = DjangoBridge(project, None)
    bridge.setup()
    own = own_apps(root)
    if not own:
        raise ConfigError(f"found no app of the project's own under {root} (apps in site-packages or a virtualenv never count)")
    databases: dict[str, dict[str, object]] = {}
    variables = []
    for alias, entry in bridge.settings.DATABASES.items():
        engine = engines.for_django(alias, dict(entry))
        block = engine.draft_block(root)
        if engine.spec.password:
            variable = _variable(settings, alias)
            block["password"] = "${" + variable + "}"
            variables.append(variable)
        databases[alias] = block
    special = data_migrations.find(bridge.loader(), own)
    return Draft(settings, own, databases, variables, sorted({op.origin for op in special}))


def _flow(block: dict[str, object]) -> str:
    """A YAML flow mapping; JSON strings are valid YAML scalars."""
    return "{" + ", ".join(f"{key}: {json.dumps(value) if isinstance(value, str) else value}" for key, value in block.items()) + "}"


def render(draft: Draft) -> str:
    if len(draft.databases) == 1:
        database = f"    database: {_flow(draft.databases['default'])}\n"
    else:
        database = "    databases:\n" + "".join(f"      {alias}: {_flow(block)}\n" for alias, block in draft.databases.items())
    secrets = ""
    if draft.password_variables:
        secrets = "# Passwords are read from the environment: export " + ", ".join(draft.password_variables) + "\n"
    apps = ", ".join(draft.apps)
    data = ""
    if draft.data_migrations:
        data = (
            "# Migrations with operations makemigrations cannot re-create (RunPython, RunSQL...).\n"
            "# Review each: keep carries it into the new history, drop forgets it.\n"
            f"data_migrations:\n  keep: [{', '.join(draft.data_migrations)}]\n"
        )
    return f"""\
# reset.yaml drafted by `djreset init`: check the apps, then try `djreset plan`.
{secrets}project:
  root: .
  settings: {draft.settings}
apps: [{apps}]
default_env: dev
{data}environments:
  dev:          # Case 1: the database may be dropped
{database}    steps: [clean-files, drop-db, create-db, makemigrations, migrate]
  keep:         # Case 2: the database must be kept
{database}    steps: [check, verify, clean-files, makemigrations, rewrite-history, verify]
  deploy:       # other environments, after deploying the new files, before migrate
    extends: keep
    steps: [check-applied, backup, rewrite-history, verify]
"""
