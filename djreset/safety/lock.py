"""One reset at a time per project: ``.djreset/lock``, an flock the kernel releases with the process."""
from __future__ import annotations

import fcntl
import os
from contextlib import contextmanager
from typing import TYPE_CHECKING, Iterator

from djreset import state
from djreset.errors import Refused

if TYPE_CHECKING:
    from djreset.config import Project


@contextmanager
def project_lock(project: "Project") -> Iterator[None]:
    """Hold .djreset/lock for the whole run; refuse if another djreset holds it."""
    path = state.lock_path(project)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+")
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
