"""One djreset command's working set: project, environment, Django, engines, output."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from djreset import engines
from djreset.actions import Actions
from djreset.bridge import DjangoBridge
from djreset.ui import Output

if TYPE_CHECKING:
    from invoke import Context

    from djreset.config import Environment, Project
    from djreset.engines import Engine


class Run:
    def __init__(
        self,
        project: "Project",
        env: "Environment",
        *,
        out: Output | None = None,
        dry: bool = False,
        assume_yes: bool = False,
        context: "Context | None" = None,
    ):
        self.project = project
        self.env = env
        self.out = out or Output()
        self.dry = dry
        self.assume_yes = assume_yes
        self.context = context
        self.actions = Actions(self.out, dry)
        # What one step leaves for a later one (backup id, facts of a dropped database).
        self.state: dict[str, Any] = {}
        self._engines: dict[str, "Engine"] = {alias: engines.for_spec(spec) for alias, spec in env.databases.items()}
        self.django = DjangoBridge(project, {alias: engine.django_settings() for alias, engine in self._engines.items()})

    @property
    def apps(self) -> tuple[str, ...]:
        return self.project.apps

    @property
    def aliases(self) -> list[str]:
        if self._engines:
            return list(self._engines)
        return self.django.aliases()

    def engine(self, alias: str = "default") -> "Engine":
        if alias not in self._engines:
            self._engines[alias] = engines.for_django(alias, dict(self.django.settings.DATABASES[alias]))
        return self._engines[alias]

    @property
    def protected(self) -> bool:
        """reset.yaml's ``protected``; by default, any database on another machine is."""
        if self.env.protected is not None:
            return self.env.protected
        return any(not self.engine(alias).is_local() for alias in self.aliases)

    def relative(self, path: Path) -> str:
        """A path as the user thinks of it: relative to the project root when inside it."""
        try:
            return str(path.resolve().relative_to(self.project.root))
        except ValueError:
            return str(path)
