"""MySQL and MariaDB through mysqlclient (MySQLdb), the driver Django uses.

Identifiers are quoted by Django's MySQL operations; the engine refuses any
name that would need more than that (see ``check_server_name``).  Values
(charset, collation, session ids) are bound by the driver.

The admin connection and the dump clients use only reset.yaml's settings:
the clients get ``--defaults-file=`` (a private option file, and no other:
not ``~/.my.cnf``, not /etc/mysql) and an environment without MYSQL_*
variables.  Every session djreset opens waits at most ``lock_timeout``
seconds for another session's locks.
"""
from __future__ import annotations

import re
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from djreset.actions import Change
from djreset.engines.base import SCRATCH_PREFIX, HistoryLock, ServerEngine
from djreset.engines.catalog import Catalog, Quote
from djreset.engines.catalog.mysql import MySQLCatalog
from djreset.engines.clients import clean_environment, find_program, private_file, run_client, without_client_variables
from djreset.errors import SessionsOpen, StepFailed

if TYPE_CHECKING:
    from djreset.actions import Actions

DEFAULT_CHARSET = "utf8mb4"  # Django's default; plain "utf8" is the 3-byte utf8mb3
HISTORY_LOCK_WAIT = 120  # another machine rewriting the same history: wait for it, then re-read
DEFAULT_PORT = 3306
# Django OPTIONS that are also mysqlclient connection arguments (never an option file).
DRIVER_OPTIONS = {"unix_socket", "ssl", "ssl_mode", "connect_timeout"}
# MySQL error codes worth a clear sentence; after these nothing was done.
ACCESS_DENIED = {1044, 1045, 1142, 1227}
LOCK_WAIT = {1205}
# Privileges that let a user load objects whose DEFINER is someone else.
SET_ANY_DEFINER = {"SUPER", "SET USER", "SET_USER_ID", "SYSTEM_USER"}
DEFINER = re.compile(rb"DEFINER=`((?:[^`]|``)+)`@`((?:[^`]|``)*)`")
TABLE_COMMENT = re.compile(rb"^-- Table structure for table `((?:[^`]|``)+)`")
INSERT = re.compile(rb"^INSERT INTO `((?:[^`]|``)+)` VALUES")
STRING = re.compile(rb"'(?:[^'\\]|\\.)*'", re.DOTALL)


def quote(name: str) -> str:
    from django.db.backends.mysql.operations import DatabaseOperations

    return DatabaseOperations(None).quote_name(name)


def _unquote(name: bytes) -> str:
    return name.replace(b"``", b"`").decode("utf-8", errors="replace")


class MySQLEngine(ServerEngine):
    name = "mysql"
    aliases = ("mariadb",)
    django_backends = ("django.db.backends.mysql", "django.contrib.gis.db.backends.mysql")
    backend_suffixes = (".mysql",)
    settings_keys = {"charset": str, "collation": str, "lock_timeout": int}
    max_name_length = 64
    refused_options = ("read_default_file", "read_default_group")

    def history_lock(self) -> HistoryLock:
        # GET_LOCK belongs to the session, not the transaction: taken before BEGIN (so
        # the transaction's snapshot is read after the other run committed), released after.
        name = f"djreset.history.{self.spec.name}"[:64]
        return HistoryLock(before=(("SELECT GET_LOCK(%s, %s)", (name, HISTORY_LOCK_WAIT)),), after=(("SELECT RELEASE_LOCK(%s)", (name,)),))

    def describe(self) -> str:
        return f"mysql {self.spec.name} on {self._host}:{self.spec.port or DEFAULT_PORT} (app user {self.spec.user or '-'}, admin {self.admin_user or '-'})"

    def django_options(self) -> dict[str, Any]:
        return {"charset": self.spec.extra.get("charset") or DEFAULT_CHARSET, **dict(self.spec.options)}

    def session_statements(self) -> list[str]:
        return [f"SET SESSION lock_wait_timeout = {self.lock_timeout}", f"SET SESSION innodb_lock_wait_timeout = {self.lock_timeout}"]

    @property
    def _host(self) -> str:
        return self.spec.host or "localhost"

    @contextmanager
    def connect(self, database: str | None = None) -> Iterator[Any]:
        """An autocommit admin connection to the server (no database selected)."""
        try:
            import MySQLdb
        except ImportError:
            raise StepFailed("mysqlclient is not installed: pip install 'djreset[mysql]'") from None
        params: dict[str, Any] = {key: value for key, value in self.spec.options.items() if key in DRIVER_OPTIONS}
        params.update(user=self.admin_user, password=self.admin_password, port=self.spec.port or DEFAULT_PORT, charset="utf8mb4", autocommit=True)
        params.setdefault("connect_timeout", 10)
        params["unix_socket" if self._host.startswith("/") else "host"] = self._host
        if database:
            params["database"] = database
        try:
            with without_client_variables():
                connection = MySQLdb.connect(**{k: v for k, v in params.items() if v is not None})
        except MySQLdb.OperationalError as exc:
            where = f"database {database!r} on " if database else ""
            raise StepFailed(f"cannot connect to MySQL {where}{self._host}:{params['port']} as {self.admin_user}: {exc.args[-1]}") from None
        try:
            for statement in self.session_statements():
                self._query(connection, statement)
            yield connection
        finally:
            connection.close()

    def _query(self, connection: Any, sql: str, params: tuple = ()) -> list[tuple]:
        with connection.cursor() as cursor:
            cursor.execute(sql, params or None)
            return list(cursor.fetchall())

    def _exists(self, connection: Any) -> bool:
        return bool(self._query(connection, "SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s", (self.spec.name,)))

    def _privileges(self, connection: Any) -> tuple[str, set[str]]:
        """The admin as the server knows it (user@host), and its global privileges."""
        current = self._query(connection, "SELECT CURRENT_USER()")[0][0]
        user, _, host = current.rpartition("@")
        rows = self._query(connection, "SELECT PRIVILEGE_TYPE FROM information_schema.USER_PRIVILEGES WHERE GRANTEE = %s", (f"'{user}'@'{host}'",))
        return current, {row[0].upper() for row in rows}

    def _sessions(self, connection: Any) -> list[tuple]:
        _, privileges = self._privileges(connection)
        if not privileges & {"PROCESS", "SUPER"}:
            if self.spec.name.startswith(SCRATCH_PREFIX):
                return []  # djreset's own scratch database: no one else knows it
            raise StepFailed(
                f"{self.admin_user} cannot see other users' sessions (it lacks the PROCESS privilege), so djreset cannot tell "
                f"whether {self.spec.name!r} is in use and will not drop it blind: GRANT PROCESS ON *.* TO the admin"
            )
        # Names compare as the server compares them: exactly, unless lower_case_table_names folds case.
        folded = int(self._query(connection, "SELECT @@lower_case_table_names")[0][0]) != 0
        condition = "LOWER(DB) = LOWER(%s)" if folded else "CAST(DB AS BINARY) = CAST(%s AS BINARY)"
        return self._query(
            connection,
            f"SELECT ID, USER, HOST, COMMAND, STATE FROM information_schema.PROCESSLIST WHERE {condition} AND ID <> CONNECTION_ID() ORDER BY ID",
            (self.spec.name,),
        )

    def _sessions_error(self, sessions: list[tuple]) -> SessionsOpen:
        listed = "; ".join(f"id {sid} (user {user}@{host}, {command}{', ' + state if state else ''})" for sid, user, host, command, state in sessions)
        return SessionsOpen(f"{len(sessions)} other session(s) are using {self.spec.name!r}: {listed}", ending="KILL")

    def _run(self, actions: "Actions", connection: Any, statement: str, params: tuple = (), what: str = "", change: Change | None = None) -> None:
        import MySQLdb

        shown = statement % tuple(repr(p) for p in params) if params else statement

        def execute() -> None:
            with connection.cursor() as cursor:
                cursor.execute(statement, params or None)

        try:
            actions.do(shown, execute, change=change)
        except MySQLdb.MySQLError as exc:
            code, message = (exc.args[0], exc.args[-1]) if len(exc.args) > 1 else (0, str(exc))
            if change is not None and (code in ACCESS_DENIED | LOCK_WAIT or change.event == "created"):
                actions.retract(change)  # refused before it did anything
            if code == 1094 and statement.startswith("KILL"):
                return  # unknown thread: the session ended by itself between the listing and the KILL
            if code in ACCESS_DENIED:
                raise StepFailed(f"{self.admin_user} may not {what or 'run ' + shown}: {message} (give reset.yaml admin credentials that may)") from None
            if code in LOCK_WAIT:
                untouched = f"; {self.spec.name!r} was not dropped" if change is not None and change.event == "dropped" else ""
                raise StepFailed(f"{what or shown} waited {self.lock_timeout}s (lock_timeout) for other sessions' locks: {message}{untouched}") from None
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
            change = Change(self.alias, "dropped", force=force)
            self._run(actions, connection, f"DROP DATABASE IF EXISTS {quote(self.spec.name)}", what=f"drop {self.spec.name!r}", change=change)

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
            self._run(actions, connection, statement, params, what=f"create {self.spec.name!r}", change=Change(self.alias, "created"))

    def history_problem(self, table: str) -> str | None:
        with self.connect() as connection:
            rows = self._query(
                connection,
                "SELECT t.ENGINE, e.TRANSACTIONS FROM information_schema.TABLES t JOIN information_schema.ENGINES e ON e.ENGINE = t.ENGINE"
                " WHERE t.TABLE_SCHEMA = %s AND t.TABLE_NAME = %s",
                (self.spec.name, table),
            )
        if rows and rows[0][1] != "YES":
            return (f"{table} in {self.spec.name!r} uses the {rows[0][0]} storage engine, which has no transactions: a failure or a kill "
                    f"inside the rewrite would leave it half done. Convert it first: ALTER TABLE {table} ENGINE=InnoDB")
        return None

    # -- backup and restore --------------------------------------------------------

    @contextmanager
    def _option_file(self) -> Iterator[str]:
        """A 0600 option file, the only one the clients read: the password never
        reaches argv, and no ~/.my.cnf or /etc/mysql file can change where they go."""
        lines = ["[client]", f"user={self.admin_user or ''}"]
        if self.admin_password:
            escaped = self.admin_password.replace("\\", "\\\\").replace('"', '\\"')
            lines.append(f'password="{escaped}"')
        if self._host.startswith("/"):
            lines += [f"socket={self._host}", "protocol=SOCKET"]
        else:
            lines += [f"host={self._host}", f"port={self.spec.port or DEFAULT_PORT}"]
        # The load client (group [mysql]) waits for locks no longer than djreset does.
        lines += ["[mysql]", f"init-command=SET SESSION lock_wait_timeout = {self.lock_timeout}"]
        with private_file("client.cnf", "\n".join(lines) + "\n") as path:
            # It must be the first argument, or the clients ignore it.
            yield f"--defaults-file={path}"

    def backup(self, folder: Path) -> Path:
        target = folder / "database.sql"
        program = find_program("mariadb-dump", "mysqldump")
        with self._option_file() as defaults, open(target, "wb") as out:
            argv = [program, defaults, "--single-transaction", "--routines", "--triggers", "--events", self.spec.name]
            run_client(argv, env=clean_environment(), stdout=out)
        return target

    def _load_dump(self, actions: "Actions", dump: Path) -> None:
        program = find_program("mariadb", "mysql")

        def load() -> None:
            with self._option_file() as defaults, open(dump, "rb") as source:
                run_client([program, defaults, self.spec.name], env=clean_environment(), stdin=source)

        actions.do(f"load {dump.name} into {self.spec.name}", load, change=Change(self.alias, "loaded"))

    def server_facts(self) -> dict[str, Any]:
        with self.connect() as connection:
            hostname, port, version = self._query(connection, "SELECT @@hostname, @@port, VERSION()")[0]
        return {"host": self._host, "port": self.spec.port or DEFAULT_PORT, "user": self.admin_user, "server": f"{hostname}:{port}", "version": version}

    # -- what a dump holds -----------------------------------------------------------

    def contents(self, quote: Quote, dump: Path | None = None) -> dict[str, int]:
        if dump is not None:
            return self._dumped(dump)
        with self.connect(self.spec.name) as connection:
            tables = [row[0] for row in self._query(
                connection, "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s AND TABLE_TYPE = 'BASE TABLE'", (self.spec.name,))]
            return {table: int(self._query(connection, f"SELECT COUNT(*) FROM {quote(table)}")[0][0]) for table in tables}

    def catalog(self) -> Catalog:
        return MySQLCatalog()

    def _dumped(self, dump: Path) -> dict[str, int]:
        """Tables and rows of a mariadb-dump file.  An INSERT holds many rows, on one
        line or one per line; each starts with "(" outside the single-quoted strings,
        which are escaped and never span lines."""
        counts: dict[str, int] = {}
        table = None
        with open(dump, "rb") as lines:
            for line in lines:
                if table is None:
                    found = TABLE_COMMENT.match(line)
                    if found:
                        counts.setdefault(_unquote(found.group(1)), 0)
                    found = INSERT.match(line)
                    if not found:
                        continue
                    table, line = _unquote(found.group(1)), line[found.end():]
                values = STRING.sub(b"''", line)
                counts[table] = counts.get(table, 0) + values.count(b"(")
                if values.rstrip().endswith(b";"):
                    table = None
        return counts

    def check_loadable(self, dump: Path) -> None:
        definers = set()
        with open(dump, "rb") as lines:
            for line in lines:
                if b"DEFINER=" in line and not line.startswith(b"INSERT INTO"):
                    definers.update(f"{_unquote(user)}@{_unquote(host)}" for user, host in DEFINER.findall(line))
        if not definers:
            return
        with self.connect() as connection:
            current, privileges = self._privileges(connection)
        foreign = sorted(definer for definer in definers if definer != current)
        if foreign and not privileges & SET_ANY_DEFINER:
            raise StepFailed(
                f"{self.spec.name!r} has triggers, views, routines or events with DEFINER {', '.join(foreign)}, which {current} may not "
                "set when it loads the dump back (it needs SET USER or SUPER): a restore would fail after the drop, so djreset "
                "stops before anything is dropped; give reset.yaml an admin that may, or recreate those objects as the admin"
            )
