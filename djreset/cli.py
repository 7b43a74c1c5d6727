"""The ``djreset`` command: invoke's Program with djreset's tasks bundled.

``--config``, ``--env``, ``--yes`` and the output flags (``--json``,
``--no-color``, ``--force-color``) work before the task name too
(``djreset --env dev reset``); invoke's own runtime-config flag is not
needed by djreset, so ``--config`` means reset.yaml here.  ``manage.py
djreset`` runs the same program (see djreset/management/).
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator, Sequence

from invoke import Argument, Exit, Program
from invoke.exceptions import ParseError

from djreset import __version__
from djreset.tasks import ns

# Flags the program takes before the task name, handed to the tasks in c.config.djreset.
SETTINGS = {
    "config": (str, "path to reset.yaml (default: DJRESET_CONFIG, then ./reset.yaml)"),
    "env": (str, "environment from reset.yaml (default: DJRESET_ENV, then default_env)"),
    "yes": (bool, "confirm destructive steps without a prompt"),
    "json": (bool, "print one JSON document on stdout (the text goes to stderr)"),
    "no_color": (bool, "no colour (also NO_COLOR=1 or DJANGO_COLORS=nocolor)"),
    "force_color": (bool, "colour even when the output is not a terminal"),
}


@contextmanager
def _bad_command_line() -> Iterator[None]:
    """A command line invoke cannot parse is bad input: one line, exit code 2."""
    try:
        yield
    except ParseError as exc:
        raise Exit(f"djreset: {exc}", code=2) from None


class DjresetProgram(Program):
    # Folders where reset.yaml is looked for when neither --config nor DJRESET_CONFIG names it.
    config_places: tuple[str, ...] = ()

    def core_args(self) -> list[Argument]:
        args = [arg for arg in super().core_args() if "config" not in arg.names]
        for name, (kind, help_text) in SETTINGS.items():
            flag = name.replace("_", "-")
            default = False if kind is bool else None
            args.append(Argument(names=(flag,), kind=kind, default=default, help=help_text))
        return args

    def parse_core(self, argv: list[str] | None) -> None:
        with _bad_command_line():
            super().parse_core(argv)

    def parse_tasks(self) -> None:
        with _bad_command_line():
            super().parse_tasks()

    def update_config(self, merge: bool = True) -> None:
        # Program.update_config reads args.config as invoke's runtime config
        # file; hand ours to the tasks instead and give it nothing.
        djreset = {name: self.args[name.replace("_", "-")].value for name in SETTINGS}
        self.args.config.set_value(None, cast=False)
        super().update_config(merge=merge)
        self.config["djreset"] = {**djreset, "config_places": list(self.config_places)}


def main(argv: Sequence[str] | None = None, binary: str = "djreset", config_places: Sequence[str] = ()) -> None:
    """Run djreset with ``argv`` (default: sys.argv); exits with the task's code on failure."""
    program = DjresetProgram(name="djreset", binary=binary, namespace=ns, version=__version__)
    program.config_places = tuple(config_places)
    program.run(list(argv) if argv is not None else None)
