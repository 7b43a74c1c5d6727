"""Running the engines' dump and restore clients without leaking passwords.

Passwords never go on a command line (``ps`` and /proc/PID/cmdline show it to
every user): they go into a 0600 file in a private temporary folder, named
through an environment variable (PGPASSFILE) or an option (MySQL's
``--defaults-extra-file``), and the file is removed afterwards.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterator, Sequence

from djreset.errors import StepFailed
from djreset.secrets import mask


@contextmanager
def private_file(name: str, text: str) -> Iterator[Path]:
    """A file only this user can read, deleted when the block ends."""
    folder = Path(tempfile.mkdtemp(prefix="djreset-"))  # mkdtemp makes it 0700
    path = folder / name
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        yield path
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def find_program(*names: str) -> str:
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    raise StepFailed(f"{names[0]} is not installed (looked for {', '.join(names)} on PATH)")


def run_client(
    argv: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    stdin: IO[bytes] | None = None,
    stdout: IO[bytes] | None = None,
) -> None:
    """Run a database client; a failure becomes StepFailed with its (masked) stderr."""
    full_env = {**os.environ, **(env or {})}
    proc = subprocess.run(list(argv), env=full_env, stdin=stdin, stdout=stdout or subprocess.PIPE, stderr=subprocess.PIPE)
    if proc.returncode != 0:
        message = proc.stderr.decode(errors="replace").strip().splitlines()
        detail = message[-1] if message else f"exit status {proc.returncode}"
        raise StepFailed(mask(f"{Path(argv[0]).name} failed: {detail}"))
