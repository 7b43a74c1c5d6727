"""``manage.py djreset <task> [options]``: the djreset program, inside the project's Django.

Same tasks, options, output and exit codes as ``djreset``.  reset.yaml is
``--config``, else DJRESET_CONFIG, else the one next to manage.py, else the
one in the current directory.  The settings manage.py runs with must be the
ones reset.yaml names (djreset reuses this Django instead of starting its
own), and reset.yaml's database still wins over the settings' one.
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from djreset import cli

# Options ManagementUtility has already applied before it called this command.
APPLIED = ("--settings", "--pythonpath")


def _task_argv(argv: list[str]) -> list[str]:
    """What follows ``manage.py djreset``, without the options Django has applied."""
    kept: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg in APPLIED:
            skip = True
        elif not arg.startswith(tuple(f"{name}=" for name in APPLIED)):
            kept.append(arg)
    return kept


def _config_places(manage_py: str) -> tuple[str, ...]:
    """Where reset.yaml may be, in order: next to manage.py, then the current directory."""
    return (str(Path(manage_py).resolve().parent), os.getcwd())


class Command(BaseCommand):
    help = "djreset's tasks, as the djreset program runs them: manage.py djreset <task> [options] (manage.py djreset --list)"
    # djreset checks what it needs itself, as the djreset program does.
    requires_system_checks: list[str] = []

    def run_from_argv(self, argv: list[str]) -> None:
        """Hand the command line to djreset's own program (it exits with the task's code)."""
        binary = f"{Path(argv[0]).name} {argv[1]}"
        cli.main([binary, *_task_argv(argv[2:])], binary=binary, config_places=_config_places(argv[0]))

    def print_help(self, prog_name: str, subcommand: str) -> None:
        binary = f"{Path(prog_name).name} {subcommand}"
        cli.main([binary, "--help"], binary=binary)

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> Any:
        # call_command("djreset", "plan", "--env", "keep"): the words go to djreset as they are.
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.add_argument("words", nargs=argparse.REMAINDER)
        return parser

    def handle(self, *args: Any, **options: Any) -> None:
        words = [*args, *options.get("words", [])]
        try:
            cli.main(["djreset", *words], config_places=(os.getcwd(),))
        except SystemExit as exc:
            if exc.code:
                raise CommandError(f"djreset {' '.join(words)} exited with status {exc.code}", returncode=exc.code) from None
