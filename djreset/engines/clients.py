"""Running the engines' dump and restore clients: only djreset's settings, no leaked passwords.

Passwords never go on a command line (``ps`` and /proc/PID/cmdline show it to
every user): they go into a 0600 file in a private (0700) temporary folder,
named through an environment variable (PGPASSFILE) or an option (MySQL's
``--defaults-file``), and the folder is removed afterwards.  A djreset killed
outright cannot remove it: each folder holds a lock its creator keeps, and
the next djreset removes every folder whose lock nobody holds.

The clients get a clean environment: none of the user's ``PG*``, ``MYSQL*``
or ``MARIADB*`` variables (a PGSERVICE, PGOPTIONS or MYSQL_TCP_PORT would send
them elsewhere), and they die with djreset (Linux), so a killed run leaves no
client writing into a database behind it.
"""
from __future__ import annotations

import ctypes
import fcntl
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterator, Sequence

from djreset.errors import StepFailed
from djreset.secrets import mask

PREFIX = "djreset-client-"
# Environment variables the clients' libraries read as settings.
CLIENT_VARIABLES = ("PG", "MYSQL", "MARIADB", "LIBMYSQL")


@contextmanager
def private_file(name: str, text: str) -> Iterator[Path]:
    """A file only this user can read, deleted when the block ends (or by the next djreset)."""
    folder = Path(tempfile.mkdtemp(prefix=PREFIX))  # mkdtemp makes it 0700
    lock = open(folder / "lock.new", "w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        os.rename(folder / "lock.new", folder / "lock")  # only ever seen locked
        descriptor = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
        yield folder / name
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        lock.close()


def sweep_private_files() -> list[Path]:
    """Remove the client folders of djreset runs that were killed (their lock is free)."""
    removed = []
    base = Path(tempfile.gettempdir())
    try:
        candidates = [path for path in base.iterdir() if path.name.startswith(PREFIX)]
    except OSError:
        return removed
    for folder in candidates:
        try:
            with open(folder / "lock") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder)
        except (BlockingIOError, OSError):
            continue  # in use by a running djreset, or not ours to remove
    return removed


def clean_environment(**ours: str) -> dict[str, str]:
    """This process's environment without the client libraries' own settings, plus ``ours``."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(CLIENT_VARIABLES)}
    env.update(ours)
    return env


@contextmanager
def without_client_variables() -> Iterator[None]:
    """For a driver connecting in this process (libpq, libmysqlclient read the same variables)."""
    saved = {key: value for key, value in os.environ.items() if key.startswith(CLIENT_VARIABLES)}
    for key in saved:
        del os.environ[key]
    try:
        yield
    finally:
        os.environ.update(saved)


def find_program(*names: str) -> str:
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    raise StepFailed(f"{names[0]} is not installed (looked for {', '.join(names)} on PATH)")


def _die_with_parent() -> None:
    """In the client, before exec: be killed when djreset dies (Linux's PR_SET_PDEATHSIG)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def run_client(
    argv: Sequence[str],
    *,
    env: dict[str, str],
    stdin: IO[bytes] | None = None,
    stdout: IO[bytes] | None = None,
) -> str:
    """Run a database client in ``env`` (see :func:`clean_environment`); return its stdout
    when not redirected.  A failure becomes StepFailed with its (masked) stderr."""
    preexec = _die_with_parent if sys.platform.startswith("linux") else None
    proc = subprocess.run(list(argv), env=env, stdin=stdin, stdout=stdout or subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=preexec)
    if proc.returncode != 0:
        message = proc.stderr.decode(errors="replace").strip().splitlines()
        detail = message[-1] if message else f"exit status {proc.returncode}"
        raise StepFailed(mask(f"{Path(argv[0]).name} failed: {detail}"))
    return proc.stdout.decode(errors="replace") if stdout is None and proc.stdout else ""


def stream_client(argv: Sequence[str], *, env: dict[str, str]) -> Iterator[bytes]:
    """The lines a client writes, as it writes them (a dump read back to count its rows)."""
    preexec = _die_with_parent if sys.platform.startswith("linux") else None
    proc = subprocess.Popen(list(argv), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=preexec)
    assert proc.stdout is not None and proc.stderr is not None
    try:
        yield from proc.stdout
    finally:
        proc.stdout.close()
        error = proc.stderr.read()
        if proc.wait() != 0:
            detail = error.decode(errors="replace").strip().splitlines()
            raise StepFailed(mask(f"{Path(argv[0]).name} failed: {detail[-1] if detail else 'exit status ' + str(proc.returncode)}"))
