"""The ``djreset`` command: invoke's Program with djreset's tasks bundled.

``--config``, ``--env`` and ``--yes`` work before the task name too
(``djreset --env dev reset``); invoke's own runtime-config flag is not
needed by djreset, so ``--config`` means reset.yaml here.
"""
from __future__ import annotations

from invoke import Argument, Program

from djreset import __version__
from djreset.tasks import ns


class DjresetProgram(Program):
    def core_args(self) -> list[Argument]:
        args = [arg for arg in super().core_args() if "config" not in arg.names]
        return [
            *args,
            Argument(names=("config",), help="path to reset.yaml (default: DJRESET_CONFIG, then ./reset.yaml)"),
            Argument(names=("env",), help="environment from reset.yaml (default: DJRESET_ENV, then default_env)"),
            Argument(names=("yes",), kind=bool, default=False, help="confirm destructive steps without a prompt"),
        ]

    def update_config(self, merge: bool = True) -> None:
        # Program.update_config reads args.config as invoke's runtime config
        # file; hand ours to the tasks instead and give it nothing.
        djreset = {
            "config": self.args.config.value,
            "env": self.args.env.value,
            "yes": self.args.yes.value,
        }
        self.args.config.set_value(None, cast=False)
        super().update_config(merge=merge)
        self.config["djreset"] = djreset


program = DjresetProgram(name="djreset", binary="djreset", namespace=ns, version=__version__)
