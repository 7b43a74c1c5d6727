"""The invoke tasks: thin wrappers around the recipe runner and the steps.

Use them from the ``djreset`` command, from this repository's tasks.py, or
from a tasks.py of your own::

    from djreset.tasks import ns

Every recipe step gets a task of the same name that runs just that step.
Common flags: ``--env NAME``, ``--config PATH``, ``--yes``; invoke's ``--dry``
prints what would be done without doing it.
"""
from __future__ import annotations

import functools
import inspect
import json
import os
import sys
import traceback
from pathlib import Path
from typing import Any, Callable

from invoke import Collection, Context, Exit, task
from invoke.tasks import Task

from djreset import __version__, ui
from djreset import config as configuration
from djreset import init as drafting
from djreset import recipe, registry, state, status as standing, steps  # noqa: F401 - importing steps registers them
from djreset.bridge import terminal
from djreset.config import StepCall
from djreset.errors import DjresetError, Refused
from djreset.run import Run
from djreset.secrets import mask

COMMON_HELP = {
    "env": "environment from reset.yaml (default: DJRESET_ENV, then default_env)",
    "config": "path to reset.yaml (default: DJRESET_CONFIG, then ./reset.yaml)",
    "yes": "confirm destructive steps without a prompt (for CI)",
}
# Every task takes these: how djreset prints, not what it does.
OUTPUT_HELP = {
    "json": "print one JSON document on stdout (the text goes to stderr); exit codes are unchanged",
    "no_color": "no colour (also NO_COLOR=1 or DJANGO_COLORS=nocolor)",
    "force_color": "colour even when the output is not a terminal",
}
OUTPUT_FLAGS = tuple(OUTPUT_HELP)


def make_output(*, json: bool, no_color: bool, force_color: bool) -> ui.Output:
    """Text on stdout (stderr with --json), in Django's colours on a terminal."""
    stream = sys.stderr if json else sys.stdout
    colour = ui.colour_wanted(stream, no_color=no_color, force_color=force_color)
    return ui.Output(stream, terminal.django_style() if colour else ui.PLAIN)


def _with_output_flags(signature: inspect.Signature) -> inspect.Signature:
    extra = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=False) for name in OUTPUT_FLAGS]
    kept = [parameter for parameter in signature.parameters.values() if parameter.name != "out"]
    positional = [parameter for parameter in kept if parameter.kind is not inspect.Parameter.VAR_KEYWORD]
    return signature.replace(parameters=positional + extra + [p for p in kept if p not in positional])


def reports_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """A task's frame: its Output (text, colour, --json), and its errors.

    Known errors become one line and their exit code; nothing prints a
    password.  With --json the document goes to stdout whatever happened.
    """
    name = func.__name__.replace("_", "-")

    @functools.wraps(func)
    def wrapper(c: Context, *args: Any, **kwargs: Any) -> Any:
        # Given to the task or to djreset itself (before the task name).
        flags = {flag: bool(_setting(c, flag, kwargs.pop(flag, False))) for flag in OUTPUT_FLAGS}
        out = make_output(**flags)
        out.report.set("task", name)
        code, error = 0, None
        with ui.stdout_kept_for_the_document(flags["json"]):
            try:
                func(c, *args, out=out, **kwargs)
            except DjresetError as exc:
                code, error = exc.exit_code, mask(str(exc))
            except KeyboardInterrupt as exc:
                # 128 + the signal: SIGTERM 143, Ctrl-C 130.
                code, error = (143 if isinstance(exc, recipe.Interrupted) else 130), "interrupted"
            except Exception:  # a bug: show it, masked
                print(mask(traceback.format_exc()), file=sys.stderr, end="")
                code, error = 1, "unexpected error (the traceback above is a bug report)"
        if flags["json"]:
            print(json.dumps(out.report.document(__version__, code, error), indent=2), flush=True)
        if code:
            line = f"djreset: {error}"
            raise Exit(out.style.ERROR(line) if sys.stderr.isatty() else line, code=code)

    wrapper.__signature__ = _with_output_flags(inspect.signature(func))  # type: ignore[attr-defined]
    return wrapper


def _setting(c: Context, name: str, given: Any) -> Any:
    """A flag given to the task wins over the same flag given to djreset itself."""
    if given not in (None, False):
        return given
    return c.config.get("djreset", {}).get(name, given)


def find_config(c: Context, config: str | None) -> Path:
    """--config, DJRESET_CONFIG, then reset.yaml in the program's places (manage.py's folder), then here."""
    given = _setting(c, "config", config)
    if not given and not os.environ.get("DJRESET_CONFIG"):
        for folder in c.config.get("djreset", {}).get("config_places") or ():
            if (Path(folder) / configuration.CONFIG_NAME).is_file():
                given = str(Path(folder) / configuration.CONFIG_NAME)
                break
    return configuration.find(given)


def make_run(c: Context, env: str | None, config: str | None, yes: bool = False, *, out: ui.Output, dry: bool | None = None) -> Run:
    project = configuration.load(find_config(c, config))
    environment = project.environment(_setting(c, "env", env))
    return Run(
        project,
        environment,
        out=out,
        dry=bool(c.config.run.dry) if dry is None else dry,
        assume_yes=bool(_setting(c, "yes", yes)),
        context=c,
    )


# -- one task per step ---------------------------------------------------------


def _call_from_flags(spec: registry.StepSpec, run: Run, flags: dict[str, Any]) -> StepCall:
    """The step with the recipe's options (if it has the step), overridden by flags."""
    if spec.argument:
        argument = flags.get("command") or _recipe_argument(run, spec.name)
        return StepCall(spec.name, {}, argument, run.env.where)
    options = dict(run.env.step_options(spec.name))
    # A flag left at the step's default keeps the recipe's value.
    options.update({k: v for k, v in flags.items() if v is not None and v != spec.options[k].default})
    return StepCall(spec.name, options, None, run.env.where)


def _signature(spec: registry.StepSpec) -> tuple[inspect.Signature, dict[str, str]]:
    """The task's parameters (they become its flags) and their help."""
    keyword = inspect.Parameter.KEYWORD_ONLY
    parameters = [
        inspect.Parameter("c", inspect.Parameter.POSITIONAL_OR_KEYWORD),
        *(inspect.Parameter(name, keyword, default=default) for name, default in (("env", None), ("config", None), ("yes", False))),
    ]
    help_text = dict(COMMON_HELP)
    if spec.argument:
        parameters.append(inspect.Parameter("command", keyword, default=None))
        help_text["command"] = f"{spec.argument} (default: the one in the recipe)"
    for name, option in spec.options.items():
        # Booleans default to the step's default, so invoke makes them flags
        # (--force, --no-if-exists); other options default to "not given".
        parameters.append(inspect.Parameter(name, keyword, default=option.default if option.kind is bool else None))
        help_text[name] = f"{option.help} (default: {option.default}, or the recipe's)"
    return inspect.Signature(parameters), help_text


def _step_task(spec: registry.StepSpec) -> Task:
    """A task that runs one step; its options become flags overriding the recipe."""

    def body(c: Context, env: str | None = None, config: str | None = None, yes: bool = False, *, out: ui.Output, **flags: Any) -> None:
        run = make_run(c, env, config, yes, out=out)
        recipe.execute(run, [_call_from_flags(spec, run, flags)], title=f"djreset {spec.name} · environment {run.env.name}")

    signature, help_text = _signature(spec)
    body.__doc__ = spec.func.__doc__
    body.__name__ = spec.name.replace("-", "_")
    body.__signature__ = signature  # type: ignore[attr-defined]
    return Task(reports_errors(body), name=spec.name, help={**help_text, **OUTPUT_HELP})


def _recipe_argument(run: Run, name: str) -> str:
    for call in run.env.steps:
        if call.name == name:
            return call.argument or ""
    raise DjresetError(f"{name} needs a command: give --command, or put `- {name}: ...` in the recipe")


# -- recipe-level tasks --------------------------------------------------------


@task(help={**COMMON_HELP, **OUTPUT_HELP})
@reports_errors
def reset(c, env=None, config=None, yes=False, *, out):
    """Run the environment's recipe, step by step, with a summary at the end."""
    run = make_run(c, env, config, yes, out=out)
    names = " → ".join(call.describe() for call in run.env.steps)
    recipe.execute(run, run.env.steps, title=f"djreset reset · environment {run.env.name} · {names}")


@task(help={**COMMON_HELP, **OUTPUT_HELP})
@reports_errors
def plan(c, env=None, config=None, yes=False, *, out):
    """Show every file, statement and command the recipe would run; change nothing."""
    run = make_run(c, env, config, yes, out=out, dry=True)
    recipe.execute(run, run.env.steps, title=f"djreset plan · environment {run.env.name} (dry run)")


@task(help={**COMMON_HELP, **OUTPUT_HELP})
@reports_errors
def backups(c, env=None, config=None, yes=False, *, out):
    """List the backups djreset has made, oldest first."""
    project = configuration.load(find_config(c, config))
    found = state.all_backups(project)
    out.report.set("backup_dir", str(project.backup_dir))
    out.report.set("backups", [backup_json(item) for item in found])
    if not found:
        out.write(f"no backups in {project.backup_dir}")
    for item in found:
        out.write(item.describe())


def backup_json(backup: state.Backup) -> dict[str, Any]:
    manifest = backup.manifest
    keys = ("env", "reason", "created", "djreset", "apps")
    return {
        "id": backup.id,
        "folder": str(backup.folder),
        **{key: manifest.get(key) for key in keys},
        "files": sorted(manifest.get("files", {})),
        "history": manifest.get("history", {}),
        "databases": sorted(manifest.get("databases", {})),
    }


@task(help={"settings": "DJANGO_SETTINGS_MODULE (default: the one manage.py names)", "force": "overwrite an existing reset.yaml", **OUTPUT_HELP})
@reports_errors
def init(c, settings=None, force=False, *, out):
    """Draft reset.yaml from the Django project in the current directory."""
    root = Path.cwd()
    target = root / configuration.CONFIG_NAME
    if target.exists() and not force:
        raise Refused(f"{target} exists; pass --force to replace it")
    draft = drafting.draft(root, drafting.find_settings(root, settings))
    target.write_text(drafting.render(draft))
    # check runs every kept data migration on a scratch database: the draft must pass it.
    draft, note = drafting.trial(target, draft)
    target.write_text(drafting.render(draft))
    out.report.set("wrote", str(target))
    out.write(f"wrote {target}")
    out.write(f"  settings  {draft.settings}")
    out.write(f"  apps      {', '.join(draft.apps)}")
    for alias, block in draft.databases.items():
        out.write(f"  database  {alias}: {block['engine']} {block['name']}")
    if draft.password_variables:
        out.write(f"  passwords from the environment: {', '.join(draft.password_variables)}")
    if draft.decisions:
        verdicts = [decision.verdict for decision in draft.decisions]
        out.write(f"  data migrations: keep {verdicts.count('keep')}, drop {verdicts.count('drop')} (each with its reason: review them)")
    if note:
        out.write(f"  note: {note}")
    out.write(f"  default environment: {draft.default_env}" + (" (the database has history to keep)" if draft.default_env == "keep" else ""))
    out.write(f"next: djreset plan --env {draft.default_env}")


@task(help={"env": "only this environment (default: every environment of reset.yaml)", "config": COMMON_HELP["config"], **OUTPUT_HELP})
@reports_errors
def status(c, env=None, config=None, *, out):
    """Where every environment's databases stand with the reset: old history applied, new migrations recorded,
    ready to retire, or not safe (exit code 1, as when a database cannot be read). Changes nothing."""
    project = configuration.load(find_config(c, config))
    unfinished = standing.unfinished_run(project)  # first: a half-done run may leave files Django cannot load
    out.report.set("status", {"unfinished_run": unfinished})
    if unfinished:
        out.write(f"✗ {unfinished}", "ERROR")
    found = standing.survey(project, _setting(c, "env", env))
    out.report.set("status", {**standing.as_json(found), "unfinished_run": unfinished})
    if not found.resets:
        out.write(f"no reset to deploy: the migrations of {', '.join(project.apps)} replace nothing, and {state.RESET_HISTORY} records none")
        if unfinished:
            raise Refused("status: a run did not finish (above)")
        return
    out.title(f"djreset status · reset of {', '.join(found.resets)}")
    out.table(standing.rows(found))
    for line in standing.details(found):
        out.write(f"✗ {line}", "ERROR")
    for line in standing.retire_lines(found):
        out.write(line)
    failed = standing.failure(found)
    if failed or unfinished:
        raise Refused("; ".join(filter(None, [failed, "status: a run did not finish (above)" if unfinished else None])))


def _collection() -> Collection:
    ns = Collection(reset, plan, backups, init, status)
    for name in sorted(registry.STEPS):
        ns.add_task(_step_task(registry.get(name)))
    return ns


ns = _collection()
