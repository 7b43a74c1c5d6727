"""reset.yaml → a validated, typed model.

Every error names the file, the line and the key, and suggests the nearest
known key or name.  Validation happens in two passes:

* :func:`load` checks the whole file: its shape, the apps, the step names and
  their options, the engine names, every environment (chosen or not).
  Nothing depends on the process environment yet, so a missing ``${VAR}`` of
  another environment never gets in the way.
* :meth:`Project.environment` resolves one environment: it merges ``extends``,
  reads ``${VAR}`` / ``${VAR:-default}`` from the process environment and
  builds the typed :class:`Environment`.

Each block of the file is checked (pass 1) and built (pass 2) side by side.
"""
from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from djreset import engines, registry
from djreset.config import yamlsource
from djreset.config.yamlsource import Node
from djreset.engines import DatabaseSpec
from djreset.engines.catalog import ASPECTS
from djreset.errors import ConfigError, Where, suggest
from djreset.secrets import Secret

CONFIG_NAME = "reset.yaml"
DEFAULT_BACKUP_DIR = ".djreset/backups"

TOP_KEYS = ("project", "apps", "default_env", "environments", "backups", "data_migrations", "verify", "keep_recent", "cutoff")
PROJECT_KEYS = ("root", "settings")
ENVIRONMENT_KEYS = ("extends", "protected", "database", "databases", "steps")
DATABASE_KEYS = ("engine", "name", "user", "password", "host", "port", "options", "admin")
ADMIN_KEYS = ("user", "password")
BACKUP_KEYS = ("dir", "enabled", "dump_database")
DATA_MIGRATION_KEYS = ("keep", "drop")
VERIFY_KEYS = ("accept",)

APP_LABEL = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
ENV_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
ALIAS = APP_LABEL
VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


# -- the typed model ---------------------------------------------------------


@dataclass(frozen=True)
class StepCall:
    """One entry of a recipe: a step name with its options or argument."""

    name: str
    options: Mapping[str, Any]
    argument: str | None
    where: Where | None = None
    # Put in by the runner (the automatic backup), not written in the recipe.
    automatic: bool = False
    # reset.yaml's ``destructive:`` on a manage or run step; None: the step's own role.
    destructive: bool | None = None

    @property
    def is_destructive(self) -> bool:
        return registry.get(self.name).destructive if self.destructive is None else self.destructive

    @property
    def changes_project(self) -> bool:
        """It changes files or databases (destructive or not): journaled, backed up, rolled back."""
        spec = registry.get(self.name)
        if self.destructive is False or spec.saves_backup:
            return False
        return self.is_destructive or not spec.read_only

    def describe(self) -> str:
        if self.argument is not None:
            return f"{self.name}: {self.argument}"
        if self.automatic:
            return self.name
        changed = {k: v for k, v in self.options.items() if registry.get(self.name).options[k].default != v}
        if not changed:
            return self.name
        return f"{self.name} " + " ".join(f"{k}={v}" for k, v in changed.items())


@dataclass(frozen=True)
class Environment:
    name: str
    # alias → database; empty means "use DATABASES from the Django settings".
    databases: Mapping[str, DatabaseSpec]
    steps: tuple[StepCall, ...]
    # True/False as reset.yaml says; None: protected when a database is not local.
    protected: bool | None
    where: Where

    def step_options(self, name: str) -> Mapping[str, Any]:
        """The options the recipe gives ``name``, or the step's defaults."""
        for call in self.steps:
            if call.name == name:
                return call.options
        return registry.get(name).defaults()


@dataclass(frozen=True)
class DataMigrationPolicy:
    """What to do with operations makemigrations cannot re-create."""

    keep: tuple[str, ...] = ()
    drop: tuple[str, ...] = ()
    # Each entry's place in reset.yaml, for the one-line error when it names nothing.
    where: Mapping[str, Where] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class PartialReset:
    """Which recent migrations a reset keeps as they are: ``keep_recent`` of every
    app, or (for the apps it names) those after ``cutoff``, the last one replaced."""

    keep_recent: int = 0
    cutoff: Mapping[str, str] = field(default_factory=dict)
    cutoff_where: Mapping[str, Where] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.keep_recent or self.cutoff)


@dataclass(frozen=True)
class Project:
    config_path: Path
    root: Path
    settings: str
    settings_where: Where | None
    apps: tuple[str, ...]
    app_where: Mapping[str, Where]
    default_env: str | None
    backup_dir: Path
    backups_enabled: bool
    dump_database: bool
    data_migrations: DataMigrationPolicy
    # A partial reset: keep the last N migrations of each app, or those after a named cutoff (app → name).
    partial: "PartialReset" = field(default_factory=lambda: PartialReset())
    # The environment blocks as checked by load(), resolved on demand.
    environment_blocks: Mapping[str, Node] = field(repr=False, default_factory=dict)
    environments_where: Where | None = field(repr=False, default=None)
    # verify.accept: differences a team knowingly keeps ("TABLE[.NAME] [ASPECT]").
    verify_accept: tuple[str, ...] = ()

    @property
    def base_dir(self) -> Path:
        return self.config_path.parent

    @property
    def state_dir(self) -> Path:
        """djreset's own files in the project: journal, lock, remembered facts."""
        return self.root / ".djreset"

    def choose_environment(self, name: str | None) -> str:
        """``--env``, then DJRESET_ENV, then default_env."""
        chosen = name or os.environ.get("DJRESET_ENV") or self.default_env
        if not chosen:
            names = ", ".join(self.environment_blocks)
            raise ConfigError(f"no environment chosen: pass --env NAME, set DJRESET_ENV or default_env (one of: {names})")
        if chosen not in self.environment_blocks:
            raise ConfigError(f"unknown environment {chosen!r}{suggest(chosen, self.environment_blocks)}", self.environments_where)
        return chosen

    def environment(self, name: str | None = None) -> Environment:
        chosen = self.choose_environment(name)
        return _build_environment(self, chosen, _merged_environment(chosen, self.environment_blocks))


# -- finding and loading -----------------------------------------------------


def find(explicit: str | os.PathLike[str] | None = None, cwd: Path | None = None) -> Path:
    """``--config PATH``, then DJRESET_CONFIG, then reset.yaml in the current directory."""
    given = explicit or os.environ.get("DJRESET_CONFIG")
    if given:
        path = Path(given).expanduser()
        if not path.is_absolute():
            path = (cwd or Path.cwd()) / path
        if not path.is_file():
            raise ConfigError(f"config file not found: {path}")
        return _not_elsewhere(path)
    path = (cwd or Path.cwd()) / CONFIG_NAME
    if not path.is_file():
        raise ConfigError(f"no {CONFIG_NAME} in {path.parent} (pass --config PATH, set DJRESET_CONFIG, or run `djreset init`)")
    return _not_elsewhere(path)


def _not_elsewhere(path: Path) -> Path:
    """The config file, refused if it is a link to another folder: its relative
    paths (project root, SQLite file, backups) would silently mean that folder."""
    resolved = path.resolve()
    if resolved.parent != path.absolute().parent.resolve():
        raise ConfigError(f"{path} is a link to {resolved}, whose relative paths mean {resolved.parent}: pass --config {resolved}")
    return resolved


def load(path: Path) -> Project:
    """Read and check the whole file (pass 1)."""
    doc = yamlsource.load(path)
    if not doc.is_mapping:
        raise ConfigError("the file must be a mapping with project, apps and environments", doc.where)
    _check_keys(doc, TOP_KEYS, required=("project", "apps", "environments"))
    top = doc.value
    settings, root = _project(top["project"], path)
    apps = _apps(top["apps"])
    environments = _environments(top["environments"])
    default_env = _default_env(top.get("default_env"), environments.value)
    backup_dir, backups_enabled, dump_database = _backups(top.get("backups"), path.parent, root)
    return Project(
        config_path=path,
        root=root,
        settings=settings,
        settings_where=top["project"].value["settings"].where,
        apps=tuple(apps),
        app_where=apps,
        default_env=default_env,
        backup_dir=backup_dir,
        backups_enabled=backups_enabled,
        dump_database=dump_database,
        data_migrations=_data_migrations(top.get("data_migrations")),
        partial=_partial(top.get("keep_recent"), top.get("cutoff"), apps),
        environment_blocks=environments.value,
        environments_where=environments.where,
        verify_accept=_verify_accept(top.get("verify")),
    )


# -- checking values ---------------------------------------------------------


def _check_keys(node: Node, allowed: Iterable[str], required: Iterable[str] = ()) -> None:
    if not node.is_mapping:
        raise ConfigError(f"must be a mapping, got {_kind(node.value)}", node.where)
    allowed = list(allowed)
    for key, child in node.value.items():
        if key not in allowed:
            hint = suggest(key, allowed) or f" (known keys: {', '.join(allowed)})"
            raise ConfigError(f"unknown key{hint}", child.where)
    for key in required:
        if key not in node.value:
            raise ConfigError(f"missing required key {key!r}", node.where)


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    return f"{type(value).__name__} {value!r}"


def _text(node: Node) -> str:
    if not isinstance(node.value, str) or not node.value.strip():
        raise ConfigError(f"must be non-empty text, got {_kind(node.value)}", node.where)
    if any(ord(ch) < 32 for ch in node.value):
        raise ConfigError("must not contain control characters", node.where)
    return node.value


def _bool(node: Node) -> bool:
    if not isinstance(node.value, bool):
        raise ConfigError(f"must be true or false, got {_kind(node.value)}", node.where)
    return node.value


def _check_kind(node: Node, kind: type) -> None:
    if isinstance(node.value, str) and VARIABLE.search(node.value):
        # Read when the environment is chosen; what can be checked now is.
        whole = VARIABLE.fullmatch(node.value)
        if kind in (bool, int):
            if not whole:
                raise ConfigError(f"must be {_KIND_NAMES[kind]}: write ${{VAR}} alone, not inside other text", node.where)
            if whole.group(2) is not None:
                _typed(whole.group(2), kind, node)  # a default that could never work
        return
    if kind is bool:
        _bool(node)
    elif kind is int:
        if not isinstance(node.value, int) or isinstance(node.value, bool):
            raise ConfigError(f"must be a whole number, got {_kind(node.value)}", node.where)
    elif kind is list:
        if not node.is_sequence or not all(isinstance(item.value, str) for item in node.value):
            raise ConfigError(f"must be a list of names, got {_kind(node.value)}", node.where)
    elif kind is str:
        _text(node)


_KIND_NAMES = {bool: "true or false", int: "a whole number"}


def _typed(text: str, kind: type, node: Node) -> Any:
    """An option's value read from ``${VAR}`` text, as its kind: never a truthy string."""
    if kind is bool:
        if text.strip().lower() in ("true", "false"):
            return text.strip().lower() == "true"
    elif kind is int:
        if re.fullmatch(r"\s*-?\d+\s*", text):
            return int(text)
    else:
        return text
    raise ConfigError(f"must be {_KIND_NAMES[kind]}, got {text!r} from {node.value}", node.where)


def _inside(path: Path, roots: Iterable[Path], where: Where) -> Path:
    resolved = path.resolve()
    for root in roots:
        if resolved == root.resolve() or root.resolve() in resolved.parents:
            return resolved
    raise ConfigError(f"{path} is outside the project", where)


# -- the top-level sections ----------------------------------------------------


def _project(node: Node, path: Path) -> tuple[str, Path]:
    """The settings module and the project root."""
    _check_keys(node, PROJECT_KEYS, required=("settings",))
    settings = _text(node.value["settings"])
    if not re.fullmatch(r"[A-Za-z_][\w]*(\.[A-Za-z_]\w*)*", settings):
        raise ConfigError(f"not a Python module path: {settings!r}", node.value["settings"].where)
    root_node = node.value.get("root")
    root = (path.parent / _text(root_node)).resolve() if root_node else path.parent
    return settings, root


def _apps(node: Node) -> dict[str, Where]:
    """App labels in order, each with where it is written."""
    if not node.is_sequence or not node.value:
        raise ConfigError("must be a non-empty list of app labels", node.where)
    labels: dict[str, Where] = {}
    for item in node.value:
        label = _text(item)
        if not APP_LABEL.match(label):
            raise ConfigError(f"{label!r} is not an app label (use the label, e.g. 'accounts', not a dotted path)", item.where)
        if label in labels:
            raise ConfigError(f"{label!r} is listed twice", item.where)
        labels[label] = item.where
    return labels


def _environments(node: Node) -> Node:
    if not node.is_mapping or not node.value:
        raise ConfigError("must map environment names to their settings", node.where)
    for name, env_node in node.value.items():
        _check_environment(name, env_node, node.value)
    return node


def _default_env(node: Node | None, environments: Mapping[str, Node]) -> str | None:
    if node is None:
        return None
    name = _text(node)
    if name not in environments:
        raise ConfigError(f"no environment named {name!r}{suggest(name, environments)}", node.where)
    return name


def _backups(node: Node | None, base: Path, root: Path) -> tuple[Path, bool, bool]:
    if node is None:
        return root / DEFAULT_BACKUP_DIR, True, True
    _check_keys(node, BACKUP_KEYS)
    directory = root / DEFAULT_BACKUP_DIR
    if "dir" in node.value:
        directory = _inside(base / _text(node.value["dir"]), (base, root), node.value["dir"].where)
    enabled = _bool(node.value["enabled"]) if "enabled" in node.value else True
    dump = _bool(node.value["dump_database"]) if "dump_database" in node.value else True
    return directory, enabled, dump


def _data_migrations(node: Node | None) -> DataMigrationPolicy:
    if node is None:
        return DataMigrationPolicy()
    _check_keys(node, DATA_MIGRATION_KEYS)
    lists = {key: _migration_list(node.value.get(key)) for key in DATA_MIGRATION_KEYS}
    both = set(lists["keep"]) & set(lists["drop"])
    if both:
        raise ConfigError(f"{sorted(both)[0]} is both kept and dropped", node.where)
    where = {name: place for key in DATA_MIGRATION_KEYS for name, place in lists[key].items()}
    return DataMigrationPolicy(keep=tuple(lists["keep"]), drop=tuple(lists["drop"]), where=where)


def _verify_accept(node: Node | None) -> tuple[str, ...]:
    if node is None:
        return ()
    _check_keys(node, VERIFY_KEYS)
    items = node.value.get("accept")
    if items is None:
        return ()
    if not items.is_sequence:
        raise ConfigError("must be a list of 'TABLE[.NAME] [ASPECT]' entries, e.g. '*.id identity'", items.where)
    entries = []
    for item in items.value:
        pattern, _, aspect = _text(item).strip().partition(" ")
        aspect = aspect.strip()
        if not pattern or " " in aspect:
            raise ConfigError(f"{_text(item)!r} is not 'TABLE[.NAME] [ASPECT]'", item.where)
        if aspect and aspect not in ASPECTS:
            raise ConfigError(f"unknown aspect {aspect!r}{suggest(aspect, ASPECTS)} (one of: {', '.join(ASPECTS)})", item.where)
        entries.append(f"{pattern} {aspect}".strip())
    return tuple(entries)


def _partial(keep_recent: Node | None, cutoff: Node | None, apps: Mapping[str, Where]) -> PartialReset:
    """``keep_recent: N`` and ``cutoff: {app: last_migration_replaced}``."""
    recent = 0
    if keep_recent is not None:
        _check_kind(keep_recent, int)
        if isinstance(keep_recent.value, str) or keep_recent.value < 0:
            raise ConfigError("must be a whole number of migrations to keep, 0 or more", keep_recent.where)
        recent = keep_recent.value
    cuts: dict[str, str] = {}
    wheres: dict[str, Where] = {}
    if cutoff is not None:
        if not cutoff.is_mapping:
            raise ConfigError(f"must map app labels to the last migration the reset replaces, got {_kind(cutoff.value)}", cutoff.where)
        for label, name in cutoff.value.items():
            if label not in apps:
                raise ConfigError(f"{label!r} is not in apps{suggest(label, apps)}", name.where)
            if not re.fullmatch(r"\w+", _text(name)):
                raise ConfigError(f"{name.value!r} is not a migration name (e.g. 0004_order_status)", name.where)
            cuts[label], wheres[label] = name.value, name.where
    return PartialReset(recent, cuts, wheres)


def _migration_list(items: Node | None) -> dict[str, Where]:
    """Each 'app.migration[:N]' entry, with where it is written."""
    if items is None:
        return {}
    if not items.is_sequence:
        raise ConfigError("must be a list of 'app.migration' or 'app.migration:N' entries", items.where)
    names = {}
    for item in items.value:
        text = _text(item)
        if not re.fullmatch(r"[A-Za-z_]\w*\.\w+(:\d+)?", text):
            raise ConfigError(f"{text!r} is not 'app.migration' or 'app.migration:N' (N = operation number)", item.where)
        names[text] = item.where
    return names


# -- environments: checked at load, built when chosen ------------------------------


def _check_environment(name: str, node: Node, all_envs: Mapping[str, Node]) -> None:
    where = Where(node.where.file, node.where.line, f"environments.{name}")
    if not ENV_NAME.match(name):
        raise ConfigError("environment names use letters, digits, '_', '-' and '.'", where)
    if node.value is None:
        raise ConfigError("an environment needs at least steps or extends", where)
    _check_keys(node, ENVIRONMENT_KEYS)
    env = node.value
    if "extends" in env:
        parent = _text(env["extends"])
        if parent not in all_envs:
            raise ConfigError(f"no environment named {parent!r}{suggest(parent, all_envs)}", env["extends"].where)
        _merged_environment(name, all_envs)  # reports cycles now
    elif "steps" not in env:
        raise ConfigError("missing required key 'steps' (or extend another environment)", where)
    if "protected" in env:
        _bool(env["protected"])
    if "database" in env and "databases" in env:
        raise ConfigError("give either database or databases, not both", env["databases"].where)
    if "database" in env:
        DatabaseBlock(env["database"]).check()
    if "databases" in env:
        _check_databases(env["databases"])
    if "steps" in env:
        _check_steps(env["steps"])


def _check_databases(node: Node) -> None:
    if not node.is_mapping or not node.value:
        raise ConfigError("must map database aliases (as in Django's DATABASES) to databases", node.where)
    for alias, db in node.value.items():
        if not ALIAS.match(alias):
            raise ConfigError(f"{alias!r} is not a database alias", db.where)
        DatabaseBlock(db).check()
    if "default" not in node.value:
        raise ConfigError("databases must include the 'default' alias, as Django requires", node.where)


def _merged_environment(name: str, all_envs: Mapping[str, Node]) -> dict[str, Node]:
    """Apply ``extends`` chains: the child's keys win, mappings merge one level."""
    chain: list[str] = []
    current: str | None = name
    while current is not None:
        if current in chain:
            cycle = " → ".join([*chain, current])
            raise ConfigError(f"extends loops: {cycle}", all_envs[name].where)
        chain.append(current)
        node = all_envs[current]
        parent = node.value.get("extends") if node.is_mapping else None
        current = parent.value if parent is not None else None
    merged: dict[str, Node] = {}
    for env_name in reversed(chain):
        for key, child in all_envs[env_name].value.items():
            if key == "extends":
                continue
            if key in ("database", "databases"):
                # A child that names its own database replaces the parent's.
                merged.pop("database", None)
                merged.pop("databases", None)
            merged[key] = child
    return merged


def _build_environment(project: Project, name: str, env: Mapping[str, Node]) -> Environment:
    databases: dict[str, DatabaseSpec] = {}
    if "database" in env:
        databases["default"] = DatabaseBlock(env["database"]).build(project, "default")
    elif "databases" in env:
        for alias, db in env["databases"].value.items():
            databases[alias] = DatabaseBlock(db).build(project, alias)
    # load() made sure every extends chain ends at an environment with steps.
    steps = tuple(_build_step(item) for item in env["steps"].value)
    protected = bool(env["protected"].value) if "protected" in env else None
    where = project.environment_blocks[name].where
    return Environment(name=name, databases=databases, steps=steps, protected=protected, where=where)


def expand(node: Node) -> Any:
    """``${VAR}`` and ``${VAR:-default}`` from the process environment."""
    value = node.value
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        variable, default = match.group(1), match.group(2)
        if variable in os.environ:
            return os.environ[variable]
        if default is not None:
            return default
        raise ConfigError(f"${{{variable}}} is not set (export {variable}, or write ${{{variable}:-default}})", node.where)

    return VARIABLE.sub(substitute, value)


# -- steps -------------------------------------------------------------------------


def _check_steps(node: Node) -> None:
    if not node.is_sequence or not node.value:
        raise ConfigError("must be a non-empty list of steps", node.where)
    for item in node.value:
        _parse_step(item)


def _parse_step(item: Node) -> tuple[str, Node | None, Node | None]:
    """A step is ``name`` or ``{name: options}`` / ``{name: "argument"}``;
    manage and run may add ``destructive: false``."""
    flag = None
    if isinstance(item.value, str):
        name, options = item.value, None
    elif item.is_mapping and item.value:
        names = [key for key in item.value if key != "destructive"]
        if len(names) != 1:
            raise ConfigError("a step is a name, or one name mapped to its options (- drop-db: {if_exists: true})", item.where)
        name, options, flag = names[0], item.value[names[0]], item.value.get("destructive")
    else:
        raise ConfigError("a step is a name, or one name mapped to its options (- drop-db: {if_exists: true})", item.where)
    if name not in registry.STEPS:
        raise ConfigError(f"unknown step {name!r}{suggest(name, registry.STEPS) or ' (see `djreset --list`)'}", item.where)
    spec = registry.get(name)
    if flag is not None:
        if not spec.argument:
            raise ConfigError(f"only manage and run take destructive: (whether {name} is destructive is known)", flag.where)
        _bool(flag)
    if spec.argument:
        if options is None or not isinstance(options.value, str) or not options.value.strip():
            raise ConfigError(f"{name} needs {spec.argument}, e.g. - {name}: ...", item.where)
        _arguments(name, _text(options), options)
    elif options is not None and options.value is not None:
        _check_keys(options, spec.options)
        for key, child in options.value.items():
            _check_kind(child, spec.options[key].kind)
    return name, options, flag


def _arguments(name: str, text: str, node: Node) -> list[str]:
    """A manage or run argument split as a shell would: refused now if it cannot be."""
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise ConfigError(f"{name}: cannot split {text!r} into arguments ({exc})", node.where) from None
    if not words:
        raise ConfigError(f"{name} needs a command", node.where)
    if name == "manage" and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", words[0]) and not VARIABLE.fullmatch(words[0]):
        raise ConfigError(f"manage: {words[0]!r} is not a management command name (the command comes first)", node.where)
    return words


def _build_step(item: Node) -> StepCall:
    name, options, flag = _parse_step(item)
    spec = registry.get(name)
    destructive = bool(flag.value) if flag is not None else None
    if spec.argument:
        assert options is not None
        text = expand(options)
        _arguments(name, text, options)  # again: ${VAR} values may hold quotes
        return StepCall(name, {}, text, item.where, destructive=destructive)
    values = spec.defaults()
    if options is not None and options.value:
        for key, child in options.value.items():
            kind = spec.options[key].kind
            values[key] = _typed(expand(child), kind, child) if isinstance(child.value, str) and VARIABLE.search(child.value) else child.plain()
    return StepCall(name, values, None, item.where)


# -- database blocks -----------------------------------------------------------------


class DatabaseBlock:
    """A reset.yaml database mapping: checked whole at load, built when its environment is chosen."""

    def __init__(self, node: Node):
        self.node = node

    @property
    def fields(self) -> Mapping[str, Node]:
        return self.node.value

    def engine_class(self) -> type[engines.Engine]:
        engine_node = self.fields["engine"]
        engine_name = _text(engine_node)
        engine_class = engines.lookup(engine_name)
        if engine_class is None:
            known = engines.names()
            hint = suggest(engine_name, known) or " (known: " + ", ".join(known) + ")"
            raise ConfigError(f"unknown engine {engine_name!r}{hint}", engine_node.where)
        return engine_class

    def check(self) -> None:
        """Pass 1: the shape, literal values, the engine's own keys, a literal name."""
        node = self.node
        if not node.is_mapping:
            raise ConfigError(f"must be a mapping with engine and name, got {_kind(node.value)}", node.where)
        if "engine" not in node.value:
            raise ConfigError("missing required key 'engine'", node.where)
        engine_class = self.engine_class()
        _check_keys(node, (*DATABASE_KEYS, *engine_class.settings_keys), required=("engine", "name"))
        for key in ("user", "host"):
            if key in self.fields:
                _text(self.fields[key])
        if "port" in self.fields:
            _check_port(self.fields["port"])
        if "password" in self.fields:
            _check_secret(self.fields["password"])
        if "options" in self.fields:
            if not self.fields["options"].is_mapping:
                raise ConfigError("must be a mapping (passed to Django as OPTIONS)", self.fields["options"].where)
            for key, child in self.fields["options"].value.items():
                problem = engine_class.refused_option(key)
                if problem:
                    raise ConfigError(problem, child.where)
        if "admin" in self.fields:
            _check_keys(self.fields["admin"], ADMIN_KEYS)
            if "password" in self.fields["admin"].value:
                _check_secret(self.fields["admin"].value["password"])
        for key, kind in engine_class.settings_keys.items():
            if key in self.fields:
                _check_kind(self.fields[key], kind)
        # The name is only checked fully once ${VAR} is resolved; a literal one now.
        name = _text(self.fields["name"])
        if not VARIABLE.search(name):
            problem = engine_class.check_name(name)
            if problem:
                raise ConfigError(problem, self.fields["name"].where)

    def build(self, project: Project, alias: str) -> DatabaseSpec:
        """Pass 2: ``${VAR}`` read, the name checked again, paths pinned inside the project."""
        engine_class = self.engine_class()
        admin = self.fields["admin"].value if "admin" in self.fields else {}
        password, admin_password = self._text("password"), _expanded(admin, "password")
        extra = {
            key: expand(self.fields[key]) if isinstance(self.fields[key].value, str) else self.fields[key].plain()
            for key in engine_class.settings_keys
            if key in self.fields
        }
        return DatabaseSpec(
            alias=alias,
            engine=engine_class.name,
            name=self._name(project, engine_class),
            user=self._text("user"),
            password=Secret(password) if password else None,
            host=self._text("host"),
            port=self._port(),
            options=self.fields["options"].plain() if "options" in self.fields else {},
            admin_user=_expanded(admin, "user"),
            admin_password=Secret(admin_password) if admin_password else None,
            extra=extra,
            where=self.node.where,
        )

    def _text(self, key: str) -> str | None:
        return _expanded(self.fields, key)

    def _name(self, project: Project, engine_class: type[engines.Engine]) -> str:
        node = self.fields["name"]
        name = expand(node)
        problem = engine_class.check_name(name)
        if problem:
            raise ConfigError(problem, node.where)
        if engine_class.file_based:
            # An absolute path is the user's word (settings often keep SQLite outside the
            # source tree); a relative one must not climb out of the project.
            if Path(name).is_absolute():
                return str(Path(name).resolve())
            name = str(_inside(project.base_dir / name, (project.base_dir, project.root), node.where))
        return name

    def _port(self) -> int | None:
        if "port" not in self.fields:
            return None
        raw = expand(self.fields["port"])
        try:
            return int(raw)
        except (TypeError, ValueError):
            raise ConfigError(f"must be a port number, got {raw!r}", self.fields["port"].where) from None


def _expanded(fields: Mapping[str, Node], key: str) -> str | None:
    return (expand(fields[key]) or None) if key in fields else None


def _check_port(port: Node) -> None:
    if isinstance(port.value, str) and VARIABLE.search(port.value):
        return  # checked once the variable is read
    if not isinstance(port.value, int) or isinstance(port.value, bool) or not 0 < port.value < 65536:
        raise ConfigError(f"must be a port number, got {_kind(port.value)}", port.where)


def _check_secret(node: Node) -> None:
    value = node.value
    if value in (None, ""):
        return
    whole = VARIABLE.fullmatch(value) if isinstance(value, str) else None
    if not whole:
        raise ConfigError("passwords must come from the environment: write \"${VAR}\" and export VAR", node.where)
    if whole.group(2) is not None:
        raise ConfigError("a password must not have a default (${VAR:-...} is a literal password): write \"${VAR}\"", node.where)
