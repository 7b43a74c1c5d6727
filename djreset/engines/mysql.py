"""MySQL and MariaDB through mysqlclient (MySQLdb), the driver Django uses.

Identifiers are quoted by Django's MySQL operations; the engine refuses any
name that would need more than that (see ``check_server_name``).  Values
(charset, collation, session ids) are bound by the driver.
"""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from djreset.engines.base import ServerEngine
from djreset.engines.clients import find_program, private_file, run_client
from djreset.errors import StepFailed

if TYPE_CHECKING:
    from djreset.actions import Actions

DEFAULT_CHARSET = "utf8mb4"  # Django's default; plain "utf8" is the 3-byte utf8mb3
LOCK_WAIT_SECONDS = 10  # the server default is a year: a DROP would hang behind any open transaction
# Django OPTIONS that are also mysqlclient connection arguments.
DRIVER_OPTIONS = {"read_default_file", "read_default_group", "unix_socket", "ssl", "ssl_mode", "connect_timeout"}
# MySQL error codes worth a clear sentence.
ACCESS_DENIED = {1044, 1045, 1142, 1227}


def quote(name: str) -> str:
    from django.db.backends.mysql.operations import DatabaseOperations

    return DatabaseOperations(None).quote_name(name)


class MySQLEngine(ServerEngine):
    name = "mysql"
    aliases = ("mariadb",)
    django_backends = ("django.db.backends.mysql", "django.contrib.gis.db.backends.mysql")
    backend_suffixes = (".mysql",)
    settings_keys = {"charset": str, "collation": str}
    max_name_length = 64

    def describe(self) -> str:
        where = f"{self.spec.host or 'localhost'}:{self.spec.port or 3306}"
        return f"mysql {self.spec.name} on {where} (app user {self.spec.user or '-'}, admin {self.admin_user or '-'})"

    def django_options(self) -> dict[str, Any]:
        return {"charset": self.spec.extra.get("charset") or DEFAULT_CHARSET, **dict(self.spec.options)}

    @contextmanager
    def connect(self, database: str | None = None) -> Iterator[Any]:
        """An autocommit admin connection to the server (no database selected)."""
        try:
            import MySQLdb
        except ImportError:
            raise StepFailed("mysqlclient is not installed: pip install 'djreset[mysql]'") from None
        params: dict[str, Any] = {key: value for key, value in self.spec.options.items() if key in DRIVER_OPTIONS}
        params.update(user=self.admin_user, password=self.admin_password, port=self.spec.port, charset="utf8mb4", autocommit=True)
        params.setdefault("connect_timeout", 10)
        host = self.spec.host or "localhost"
        params["unix_socket" if host.startswith("/") else "host"] = host
        if database:
            params["database"] = database
        try:
            connection = MySQLdb.connect(**{k: v for k, v in params.items() if v is not None})
        except MySQLdb.OperationalError as exc:
            raise StepFailed(f"cannot connect to MySQL on {host} as {self.admin_user}: {exc.args[-1]}") from None
        try:
            yield connection
        finally:
            connection.close()

    def _query(self, connection: Any, sql: str, params: tuple = ()) -> list[tuple]:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return list(cursor.fetchall())

    def _exists(self, connection: Any) -> bool:
        return bool(self._query(connection, "SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s", (self.spec.name,)))

    def _sessions(self, connection: Any) -> list[tuple]:
        return self._query(
            connection,
            "SELECT ID, USER, HOST, COMMAND, STATE FROM information_schema.PROCESSLIST WHERE DB = %s AND ID <> CONNECTION_ID() ORDER BY ID",
            (self.spec.name,),
        )

    def _sessions_error(self, sessions: list[tuple]) -> StepFailed:
        listed = "; ".join(f"id {sid} (user {user}@{host}, {command}{', ' + state if state else ''})" for sid, user, host, command, state in sessions)
        return StepFailed(
            f"{len(sessions)} other session(s) are using {self.spec.name!r}: {listed}. "
            "Close them, or set force: true on drop-db to KILL them"
        )

    def _run(self, actions: "Actions", connection: Any, statement: str, params: tuple = (), what: str = "") -> None:
        import MySQLdb

        shown = statement % tuple(repr(p) for p in params) if params else statement

        def execute() -> None:
            with connection.cursor() as cursor:
                cursor.execute(statement, params or None)

        try:
            actions.do(shown, execute)
        except MySQLdb.OperationalError as exc:
            code, message = exc.args[0], exc.args[-1]
            if code == 1094 and statement.startswith("KILL"):
                return  # unknown thread: the session ended by itself between the listing and the KILL
            if code in ACCESS_DENIED:
                raise StepFailed(f"{self.admin_user} may not {what or 'run ' + shown}: {message} (give reset.yaml admin credentials that may)") from None
            if code == 1205:  # lock wait timeout
                raise StepFailed(f"{what or shown} waited {LOCK_WAIT_SECONDS}s for other sessions' locks: {message}") from None
            raise StepFailed(f"{shown}: {message}") from None

    def remember_before_drop(self) -> dict[str, Any]:
        with self.connect() as connection:
            rows = self._query(
                connection,
                "SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s",
                (self.spec.name,),
            )
        return {"charset": rows[0][0], "collation": rows[0][1]} if rows else {}

    def drop(self, actions: "Actions", *, if_exists: bool = True, force: bool = False) -> None:
        with self.connect() as connection:
            sessions = self._sessions_to_end(connection, actions, if_exists, force)
            if sessions is None:
                return
            for session_id, *_ in sessions:
                self._run(actions, connection, "KILL %s", (int(session_id),), what="end other sessions")
            self._query(connection, f"SET SESSION lock_wait_timeout = {LOCK_WAIT_SECONDS}")
            self._run(actions, connection, f"DROP DATABASE IF EXISTS {quote(self.spec.name)}", what=f"drop {self.spec.name!r}")

    def create(self, actions: "Actions", *, if_not_exists: bool = False, exists: bool | None = None) -> None:
        extra, facts = self.spec.extra, self._facts
        charset = extra.get("charset") or facts.get("charset") or self.spec.options.get("charset") or DEFAULT_CHARSET
        collation = extra.get("collation") or (facts.get("collation") if charset == facts.get("charset") else None)
        statement, params = f"CREATE DATABASE {quote(self.spec.name)} CHARACTER SET %s", (charset,)
        if collation:
            statement, params = statement + " COLLATE %s", (charset, collation)
        with self.connect() as connection:
            if not self._should_create(connection, actions, if_not_exists, exists):
                return
            self._run(actions, connection, statement, params, what=f"create {self.spec.name!r}")

    # -- backup and restore --------------------------------------------------------

    @contextmanager
    def _option_file(self) -> Iterator[str]:
        """A 0600 [client] option file: the password never reaches argv."""
        lines = ["[client]", f"user={self.admin_user or ''}"]
        if self.admin_password:
            escaped = self.admin_password.replace("\\", "\\\\").replace('"', '\\"')
            lines.append(f'password="{escaped}"')
        host = self.spec.host or "localhost"
        lines.append(f"socket={host}" if host.startswith("/") else f"host={host}")
        if self.spec.port:
            lines.append(f"port={self.spec.port}")
        with private_file("client.cnf", "\n".join(lines) + "\n") as path:
            # It must be the first argument, or the clients ignore it.
            yield f"--defaults-extra-file={path}"

    def backup(self, folder: Path) -> Path:
        target = folder / "database.sql"
        program = find_program("mariadb-dump", "mysqldump")
        with self._option_file() as defaults, open(target, "wb") as out:
            run_client([program, defaults, "--single-transaction", "--routines", "--triggers", "--events", self.spec.name], stdout=out)
        return target

    def _load_dump(self, actions: "Actions", dump: Path) -> None:
        program = find_program("mariadb", "mysql")

        def load() -> None:
            with self._option_file() as defaults, open(dump, "rb") as source:
                run_client([program, defaults, self.spec.name], stdin=source)

        actions.do(f"load {dump.name} into {self.spec.name}", load)
