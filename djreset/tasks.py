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
import sys
import traceback
from pathlib import Path
from typing import Any, Callable

from invoke import Collection, Context, Exit, task
from invoke.tasks import Task

from djreset import config as configuration
from djreset import init as drafting
from djreset import recipe, registry, state, steps  # noqa: F401 - importing steps registers them
from djreset.config import StepCall
from djreset.errors import DjresetError, Refused
from djreset.run import Run
from djreset.secrets import mask

COMMON_HELP = {
    "env": "environment from reset.yaml (default: DJRESET_ENV, then default_env)",
    "config": "path to reset.yaml (default: DJRESET_CONFIG, then ./reset.yaml)",
    "yes": "confirm destructive steps without a prompt (for CI)",
}


def reports_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Known errors become one line and their exit code; nothing prints a password."""

    @functools.wraps(func)
    def wrapper(c: Context, *args: Any, **kwargs: Any) -> Any:
        try:
            return func(c, *args, **kwargs)
        except DjresetError as exc:
            raise Exit(f"djreset: {mask(str(exc))}", code=exc.exit_code) from None
        except KeyboardInterrupt as exc:
            # 128 + the signal: SIGTERM 143, Ctrl-C 130.
            code = 143 if isinstance(exc, recipe.Interrupted) else 130
            raise Exit("djreset: interrupted", code=code) from None
        except Exception:  # a bug: show it, masked
            print(mask(traceback.format_exc()), file=sys.stderr, end="")
            raise Exit("djreset: unexpected error (the traceback above is a bug report)", code=1) from None

    return wrapper


def _setting(c: Context, name: str, given: Any) -> Any:
    """A flag given to the task wins over the same flag given to djreset itself."""
    if given not in (None, False):
        return given
    return c.config.get("djreset", {}).get(name, given)


def make_run(c: Context, env: str | None, config: str | None, yes: bool = False, *, dry: bool | None = None) -> Run:
    project = configuration.load(configuration.find(_setting(c, "config", config)))
    environment = project.environment(_setting(c, "env", env))
    return Run(
        project,
        environment,
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

    def body(c: Context, env: str | None = None, config: str | None = None, yes: bool = False, **flags: Any) -> None:
        run = make_run(c, env, config, yes)
        recipe.execute(run, [_call_from_flags(spec, run, flags)], title=f"djreset {spec.name} · environment {run.env.name}")

    signature, help_text = _signature(spec)
    body.__doc__ = spec.func.__doc__
    body.__name__ = spec.name.replace("-", "_")
    wrapped = reports_errors(body)
    wrapped.__signature__ = signature  # type: ignore[attr-defined]
    return Task(wrapped, name=spec.name, help=help_text)


def _recipe_argument(run: Run, name: str) -> str:
    for call in run.env.steps:
        if call.name == name:
            return call.argument or ""
    raise DjresetError(f"{name} needs a command: give --command, or put `- {name}: ...` in the recipe")


# -- recipe-level tasks --------------------------------------------------------


@task(help=COMMON_HELP)
@reports_errors
def reset(c, env=None, config=None, yes=False):
    """Run the environment's recipe, step by step, with a summary at the end."""
    run = make_run(c, env, config, yes)
    names = " → ".join(call.describe() for call in run.env.steps)
    recipe.execute(run, run.env.steps, title=f"djreset reset · environment {run.env.name} · {names}")


@task(help=COMMON_HELP)
@reports_errors
def plan(c, env=None, config=None, yes=False):
    """Show every file, statement and command the recipe would run; change nothing."""
    run = make_run(c, env, config, yes, dry=True)
    recipe.execute(run, run.env.steps, title=f"djreset plan · environment {run.env.name} (dry run)")


@task(help=COMMON_HELP)
@reports_errors
def backups(c, env=None, config=None, yes=False):
    """List the backups djreset has made, oldest first."""
    project = configuration.load(configuration.find(_setting(c, "config", config)))
    found = state.all_backups(project)
    if not found:
        print(f"no backups in {project.backup_dir}")
    for item in found:
        print(item.describe())


@task(help={"settings": "DJANGO_SETTINGS_MODULE (default: the one manage.py names)", "force": "overwrite an existing reset.yaml"})
@reports_errors
def init(c, settings=None, force=False):
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
    print(f"wrote {target}")
    print(f"  settings  {draft.settings}")
    print(f"  apps      {', '.join(draft.apps)}")
    for alias, block in draft.databases.items():
        print(f"  database  {alias}: {block['engine']} {block['name']}")
    if draft.password_variables:
        print(f"  passwords from the environment: {', '.join(draft.password_variables)}")
    if draft.decisions:
        verdicts = [decision.verdict for decision in draft.decisions]
        print(f"  data migrations: keep {verdicts.count('keep')}, drop {verdicts.count('drop')} (each with its reason: review them)")
    if note:
        print(f"  note: {note}")
    print(f"  default environment: {draft.default_env}" + (" (the database has history to keep)" if draft.default_env == "keep" else ""))
    print(f"next: djreset plan --env {draft.default_env}")


def _collection() -> Collection:
    ns = Collection(reset, plan, backups, init)
    for name in sorted(registry.STEPS):
        ns.add_task(_step_task(registry.get(name)))
    return ns


ns = _collection()
