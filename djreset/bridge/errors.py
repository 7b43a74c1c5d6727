"""Errors from Django's database connections, each as one line for the user.

A connection that could not be made names its engine, host, port, database
and user (never the password: Django's settings hold it, the message does
not); a statement that waited too long for a lock says so.  Anything else a
database refused becomes ``<engine> refused: <first line>``.
"""
from __future__ import annotations

from types import TracebackType
from typing import Any

# Errors that mean "another session held a lock for longer than we wait".
LOCK_SQLSTATES = {"55P03": "lock_timeout", "40P01": "a deadlock"}  # PostgreSQL
LOCK_CODES = {1205: "lock_wait_timeout", 1213: "a deadlock"}  # MySQL / MariaDB


def _first_line(exc: BaseException) -> str:
    args = getattr(exc, "args", ())
    # MySQLdb: (code, message); psycopg: the message, sometimes over several lines.
    text = str(args[-1]) if len(args) >= 2 and isinstance(args[0], int) else str(exc)
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


def _connecting_wrapper(traceback: TracebackType | None) -> Any:
    """The DatabaseWrapper that was opening its connection when this was raised, if any."""
    while traceback is not None:
        frame = traceback.tb_frame
        if frame.f_code.co_name in ("connect", "ensure_connection", "get_new_connection"):
            wrapper = frame.f_locals.get("self")
            if wrapper is not None and hasattr(wrapper, "settings_dict") and hasattr(wrapper, "vendor"):
                return wrapper
        traceback = traceback.tb_next
    return None


def _connection_message(wrapper: Any, exc: BaseException) -> str:
    settings = wrapper.settings_dict
    name = settings.get("NAME") or "?"
    if wrapper.vendor == "sqlite":
        return f"cannot open the SQLite database {name}: {_first_line(exc)}"
    host = settings.get("HOST") or "localhost"
    port = settings.get("PORT") or ("5432" if wrapper.vendor == "postgresql" else "3306")
    user = settings.get("USER") or "-"
    return f"cannot connect to {wrapper.vendor} database {name!r} on {host}:{port} as {user}: {_first_line(exc)}"


def describe_database_error(exc: BaseException) -> str | None:
    """One line for a database error, or None when ``exc`` is not one."""
    from django.db import Error

    original = exc
    if not isinstance(exc, Error) and isinstance(exc.__cause__, Error):
        exc = exc.__cause__  # e.g. a management command that failed on its connection
    if not isinstance(exc, Error):
        return None
    wrapper = _connecting_wrapper(exc.__traceback__)
    if wrapper is not None:
        return _connection_message(wrapper, exc)
    driver = exc.__cause__
    waited = LOCK_SQLSTATES.get(getattr(driver, "sqlstate", None) or "")
    if waited is None and exc.args and isinstance(exc.args[0], int):
        waited = LOCK_CODES.get(exc.args[0])
    if waited:
        return f"gave up waiting for a lock another session holds ({waited}; see lock_timeout in reset.yaml): {_first_line(exc)}"
    if original is not exc:
        return None  # the command's own one-line message says more
    return f"the database refused a statement: {type(exc).__name__}: {_first_line(exc)}"
