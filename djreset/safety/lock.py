"""One reset at a time per project: ``.djreset/lock``, an flock the kernel releases with the process.

The lock is also the one answer to "is the run in the journal still going?":
a killed djreset releases it the moment it dies (a zombie holds no files), and
a reused pid never holds it.
"""
from __future__ import annotations

import fcntl
import os
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, Iterator

from djreset import state
from djreset.errors import Refused

if TYPE_CHECKING:
    from djreset.config import Project


def _open(project: "Project") -> IO[str]:
    path = state.lock_path(project)
    state.private_dir(path.parent)
    with state.private_files():
        return open(path, "a+")


@contextmanager
def project_lock(project: "Project") -> Iterator[None]:
    """Hold .djreset/lock for the whole run; refuse if another djreset holds it."""
    handle = _open(project)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "?"
            raise Refused(f"another djreset (pid {holder}) is resetting this project right now; wait for it to finish") from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield
    finally:
        handle.close()  # closing releases the flock


def holder(project: "Project") -> str | None:
    """The pid written by the djreset holding the lock now, or None if nobody does."""
    if not state.lock_path(project, make=False).is_file():
        return None
    with _open(project) as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            return handle.read().strip() or "?"
        return None  # closing releases it
