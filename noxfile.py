"""djreset's test matrix and lint, as nox sessions.

    nox -l                                   # the sessions
    nox -s lint
    nox -s "tests(python='3.13', django='6.1')"
    nox -s "fast(python='3.12', django='6.0')"   # the fast subset and the demo

Each session gets its own virtualenv with djreset installed from this folder
and the Django release of its name.  Server tests need the test servers:
run `scripts/dev-servers start` first, or use `scripts/matrix`, which starts
private ones and runs the fast sessions CI runs.
"""
from __future__ import annotations

import nox

nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["lint", "tests"]

# Supported pairs only: Django 6.x needs Python 3.12 or later.
PAIRS = [
    ("3.11", "5.2"),
    ("3.12", "5.2"),
    ("3.12", "6.0"),
    ("3.12", "6.1"),
    ("3.13", "5.2"),
    ("3.13", "6.0"),
    ("3.13", "6.1"),
]
# What CI runs besides the full suite on the machine's default pair.
CI_PAIRS = [("3.13", "6.1"), ("3.12", "6.0")]


def install(session: nox.Session, django: str) -> None:
    session.install("-e", ".[test,postgresql,mysql]", f"Django~={django}.0")
    session.run("python", "-c", "import django, sys; print('Python', sys.version.split()[0], '+ Django', django.get_version())")


@nox.session
@nox.parametrize("python,django", PAIRS)
def tests(session: nox.Session, django: str) -> None:
    """The whole suite on one Python x Django pair."""
    install(session, django)
    session.run("python", "-m", "pytest", "-p", "no:cacheprovider", "-n", "2", *session.posargs)


@nox.session
@nox.parametrize("python,django", PAIRS)
def fast(session: nox.Session, django: str) -> None:
    """The fast subset (tests marked `fast`), then the demo, on one pair."""
    install(session, django)
    session.run("python", "-m", "pytest", "-p", "no:cacheprovider", "-n", "2", "-m", "fast", *session.posargs)
    session.run("python", "scripts/demo.py")


@nox.session(python="3.11")
def lint(session: nox.Session) -> None:
    """ruff, configured in pyproject.toml."""
    session.install("ruff")
    session.run("ruff", "check", ".")
