"""``djreset init``: draft reset.yaml from the project in the current directory.

The draft lists the project's own apps (those under the project root that
have models or migrations, never site-packages or a virtualenv), the settings
module, and each database from the settings, with any password written as a
``${VAR}`` reference, never as its value.
"""
from __future__ import annotations

import io
import json
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from djreset import config as configuration
from djreset import engines
from djreset.bridge import DjangoBridge, data_migrations, graphs, history, triage
from djreset.bridge.packages import has_migrations, own_apps
from djreset.config import CONFIG_NAME, DataMigrationPolicy, Project
from djreset.errors import ConfigError
from djreset.run import Run, failing_carries
from djreset.ui import Output

if TYPE_CHECKING:
    from django.db.migrations.loader import MigrationLoader

SETTINGS_IN_MANAGE = re.compile(r"""DJANGO_SETTINGS_MODULE["']\s*,\s*["']([\w.]+)["']""")


@dataclass(frozen=True)
class Decision:
    """One drafted line of data_migrations: an entry ("app.migration" or "app.migration:N"), keep or drop, and why."""

    entry: str
    verdict: str
    reason: str


@dataclass(frozen=True)
class Draft:
    settings: str
    apps: list[str]
    databases: dict[str, dict[str, object]]
    # Each variable the draft names a password by → the settings' own password behind it
    # (the trial may use it in this process; it is never written).
    passwords: dict[str, str] = field(repr=False, compare=False)
    decisions: list[Decision]  # one per operation makemigrations cannot re-create (or per migration)
    default_env: str  # keep when the database exists (it has history to keep), else dev
    left_out: list[str] = field(default_factory=list)  # apps with models but no migrations yet (keep refuses them)

    @property
    def password_variables(self) -> list[str]:
        return list(self.passwords)


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
    passwords: dict[str, str] = {}
    for alias, entry in bridge.settings.DATABASES.items():
        engine = engines.for_django(alias, dict(entry))
        block = engine.draft_block(root)
        if engine.spec.password:
            variable = _variable(settings, alias)
            block["password"] = "${" + variable + "}"
            passwords[variable] = engine.spec.password
        databases[alias] = block
    decisions = decide(bridge.loader(), data_migrations.find(bridge.loader(), own))
    if not _has_history(bridge, own):
        return Draft(settings, own, databases, passwords, decisions, "dev")
    # Keeping the database, an app with models and no migrations is refused: its tables exist unrecorded.
    left_out = [label for label in own if not has_migrations(label)]
    return Draft(settings, [label for label in own if label not in left_out], databases, passwords, decisions, "keep", left_out)


def decide(loader: "MigrationLoader", operations: list[data_migrations.SpecialOperation]) -> list[Decision]:
    """A decision per migration when all its operations agree, else per operation."""
    per_migration: dict[str, list[tuple[data_migrations.SpecialOperation, str, str]]] = {}
    suggested = {op: triage.suggest(_operation(loader, op)) for op in operations}
    seeds = {
        (op.app, op.migration): triage.models_used(_operation(loader, op))
        for op, (verdict, reason) in suggested.items() if verdict == "keep" and "creates rows" in reason
    }
    for op, (verdict, reason) in suggested.items():
        seed = _seed_before(loader, op, seeds) if reason == triage.ONLY_CHANGES else None
        if seed:
            verdict, reason = "keep", f"changes rows that the kept {seed[0]}.{seed[1]} creates: a fresh database needs the change too"
        per_migration.setdefault(op.origin, []).append((op, verdict, f"{op.kind}: {reason}"))
    decisions = []
    for origin, found in per_migration.items():
        if len({verdict for _, verdict, _ in found}) == 1:
            reasons = list(dict.fromkeys(reason for _, _, reason in found))
            decisions.append(Decision(origin, found[0][1], "; ".join(reasons)))
        else:
            decisions += [Decision(op.key, verdict, reason) for op, verdict, reason in found]
    return decisions


def _operation(loader: "MigrationLoader", op: data_migrations.SpecialOperation) -> Any:
    return loader.disk_migrations[(op.app, op.migration)].operations[op.index - 1]


def _seed_before(
    loader: "MigrationLoader", op: data_migrations.SpecialOperation, seeds: dict[tuple[str, str], set[str] | None]
) -> tuple[str, str] | None:
    """The last kept row-creating migration this one runs after and may touch the
    rows of (the same models, or either cannot be told): on a fresh database those
    rows exist when it runs, so what it updates or deletes is there."""
    key = (op.app, op.migration)
    if key not in loader.graph.nodes:
        return None
    touches = triage.models_used(_operation(loader, op))
    for node in reversed(loader.graph.forwards_plan(key)[:-1]):
        if node in seeds and (touches is None or seeds[node] is None or touches & seeds[node]):
            return node
    return None


def _has_history(bridge: DjangoBridge, labels: list[str]) -> bool:
    """Does the default database exist with applied migrations of these apps?  Never creates it."""
    try:
        if not engines.for_django("default", dict(bridge.settings.DATABASES["default"])).exists():
            return False
        return any(history.recorded_names(bridge, "default", labels).values())
    except Exception:  # a server we cannot reach with these credentials: assume a new database
        return False


def dropped_on_trial(draft_: Draft, failures: dict[str, str]) -> Draft:
    """The draft with kept migrations that failed on a scratch database moved to drop, and
    what was kept only because it changes the rows of one of those back to drop."""
    decisions = [
        Decision(d.entry, "drop", f"{_failed(d.reason, failures[d.entry.split(':')[0]])}")
        if d.verdict == "keep" and d.entry.split(":")[0] in failures else d
        for d in draft_.decisions
    ]
    gone = {d.entry.split(":")[0] for d in decisions if d.verdict == "drop"}
    return replace(draft_, decisions=[_without_dropped_seeds(d, gone) for d in decisions])


def _failed(reason: str, error: str) -> str:
    """A kept decision's reason once its trial failed: the failure, and what it was kept for (what a fresh database loses)."""
    kind, _, why = reason.partition(": ")
    return f"{kind}: fails on the new history ({error})" + (f"; it was kept for this: {why}" if why else "")


def _without_dropped_seeds(decision: Decision, gone: set[str]) -> Decision:
    """A keep whose reasons name seeds that went to drop: those reasons go; with none left, it is dropped too."""
    if decision.verdict != "keep":
        return decision
    reasons = decision.reason.split("; ")
    left = [reason for reason in reasons if not ((seed := SEED_REASON.search(reason)) and seed.group(1) in gone)]
    if len(left) == len(reasons):
        return decision
    if left:
        return Decision(decision.entry, "keep", "; ".join(left))
    return Decision(decision.entry, "drop", f"{decision.reason.split(':')[0]}: {triage.ONLY_CHANGES}")


SEED_REASON = re.compile(r"changes rows that the kept (\S+) creates")


def _split_failing(run: Run, drafted: Draft, failures: dict[str, str]) -> tuple[Draft, dict[str, str]]:
    """A kept migration of several operations that fails is tried one operation at a time
    (the first of each, then the second...): only those that fail go to drop, so a CREATE
    FUNCTION beside a failing INSERT is still kept.  The draft, and the failures left."""
    loader = run.django.loader()
    per_origin: dict[str, list[data_migrations.SpecialOperation]] = {}
    for op in data_migrations.find(loader, run.apps):
        per_origin.setdefault(op.origin, []).append(op)
    whole = {d.entry for d in drafted.decisions if d.verdict == "keep" and ":" not in d.entry}
    several = {origin: per_origin[origin] for origin in failures if origin in whole and len(per_origin.get(origin, ())) > 1}
    if not several:
        return drafted, failures
    others = [d for d in drafted.decisions if d.entry.split(":")[0] not in several]
    keep = tuple(d.entry for d in others if d.verdict == "keep" and d.entry.split(":")[0] not in failures)
    found: dict[str, str] = {}
    passed: list[str] = []  # each turn keeps the operations that passed before it: a later one may need them
    try:
        for turn in range(max(len(ops) for ops in several.values())):
            trying = [ops[turn] for ops in several.values() if turn < len(ops)]
            policy = DataMigrationPolicy(keep=keep + tuple(passed) + tuple(op.key for op in trying), drop=tuple(d.entry for d in drafted.decisions))
            _, carries = data_migrations.decided(loader, run.apps, policy, run.project.root, graphs.kept_migrations(run.django, run.apps))
            failed = failing_carries(run, graphs.predict(run.django, run.apps, carries))
            found.update({op.key: failed[op.origin] for op in trying if op.origin in failed})
            passed += [op.key for op in trying if op.origin not in failed]
    except Exception:  # the whole migrations the first trial found failing still go to drop
        return drafted, failures
    split = [
        Decision(op.key, "drop", f"{op.kind}: fails on the new history ({_short(found[op.key])})") if op.key in found
        else Decision(op.key, "keep", f"{op.kind}: {triage.suggest(_operation(loader, op))[1]}")
        for ops in several.values() for op in ops
    ]
    return replace(drafted, decisions=others + split), {origin: error for origin, error in failures.items() if origin not in several}


def trial(config_path: Path, drafted: Draft) -> tuple[Draft, str | None]:
    """Run the draft's kept data migrations on a scratch database, as check will;
    those that fail move to drop.  Returns the draft, and a note if it could not try."""
    run = None
    # The draft names passwords by variable; unset, the settings' own serve this process (never written).
    lent = {name: str.__str__(value) for name, value in drafted.passwords.items() if name not in os.environ}
    os.environ.update(lent)
    try:
        project = configuration.load(config_path)
        run = Run(project, project.environment("keep"), out=Output(io.StringIO()))
        loader = run.django.loader()
        kept = graphs.kept_migrations(run.django, run.apps)
        _, carries = data_migrations.decided(loader, run.apps, project.data_migrations, project.root, kept)
        reset = graphs.predict(run.django, run.apps, carries)
        if reset.refusals():
            return drafted, (f"the kept data migrations were not tried: the drafted reset is refused ({reset.refusals()[0]}); "
                             "fix that, then `djreset check` tries them")
        if not (reset.carried or reset.inlined):
            return drafted, None
        failures = failing_carries(run, reset)
        drafted, failures = _split_failing(run, drafted, failures)
    except Exception as exc:  # no scratch database here (no CREATEDB...): check will try
        return drafted, f"could not try the kept data migrations on a scratch database ({type(exc).__name__}: {exc}); review the kept ones, `djreset check` tries them once it can create one"
    finally:
        if run is not None:
            run.django.close_connections()
        for name in lent:
            os.environ.pop(name, None)
    tried = dropped_on_trial(drafted, {origin: _short(error) for origin, error in failures.items()})
    failing = list(dict.fromkeys(d.entry.split(":")[0] for d in tried.decisions if d.verdict == "drop" and "fails on the new history" in d.reason))
    if not failing:
        return tried, None
    return tried, (f"{len(failing)} data migration(s) fail on the new history and are drafted as drop ({', '.join(failing[:4])}"
                   f"{', ...' if len(failing) > 4 else ''}): a fresh database built from the new files lacks what they would "
                   "make; where it needs that, make them work with today's models and keep them")


def _short(error: str) -> str:
    """An error on one line of a draft's comment."""
    return " ".join(error.split())[:160]


def _flow(block: dict[str, object]) -> str:
    """A YAML flow mapping; JSON strings are valid YAML scalars."""
    return "{" + ", ".join(f"{key}: {json.dumps(value) if isinstance(value, str) else value}" for key, value in block.items()) + "}"


def _data_migrations(decisions: list[Decision]) -> str:
    if not decisions:
        return ""
    width = max(len(d.entry) for d in decisions) + 2
    lines = [
        "# Operations makemigrations cannot re-create (RunPython, RunSQL...), each with a first decision and why:",
        "# keep carries it into the new history (a fresh database still gets it), drop forgets it.",
        "data_migrations:",
    ]
    for verdict in ("keep", "drop"):
        chosen = [d for d in decisions if d.verdict == verdict]
        if chosen:
            lines.append(f"  {verdict}:")
            lines += [f"    - {d.entry.ljust(width)}# {d.reason}" for d in chosen]
    return "\n".join(lines) + "\n"


def render(draft: Draft) -> str:
    if len(draft.databases) == 1:
        database = f"    database: {_flow(draft.databases['default'])}\n"
    else:
        database = "    databases:\n" + "".join(f"      {alias}: {_flow(block)}\n" for alias, block in draft.databases.items())
    secrets = ""
    if draft.password_variables:
        secrets = "# Passwords are read from the environment: export " + ", ".join(draft.password_variables) + "\n"
    apps = f"apps: [{', '.join(draft.apps)}]\n"
    if draft.left_out:
        names = " ".join(draft.left_out)
        apps += f"# not listed: {', '.join(draft.left_out)} (models, no migrations): `manage.py makemigrations {names}`, migrate, then add\n"
    data = _data_migrations(draft.decisions)
    return f"""\
# reset.yaml drafted by `djreset init`: check the apps, then try `djreset plan`.
{secrets}project:
  root: .
  settings: {draft.settings}
{apps}default_env: {draft.default_env}
{data}environments:
  dev:          # Case 1: the database may be dropped
{database}    steps: [clean-files, drop-db, create-db, makemigrations, migrate]
  keep:         # Case 2: the database must be kept; every other environment then runs plain migrate
{database}    steps: [check, verify, clean-files, makemigrations, record-new, verify]
  retire:       # later, once `djreset status` says every environment recorded the new migrations
    extends: keep
    steps: [retire, verify]
"""
