"""PostgreSQL through psycopg 3, the driver Django uses.

Drop and create run on the maintenance database (``postgres`` unless
``maintenance_db`` says otherwise) with the admin credentials; identifiers go
through ``psycopg.sql.Identifier``, values through ``sql.Literal``.

The admin connection and the dump clients share one set of connection
settings, reset.yaml's, passed explicitly (``--dbname=`` a conninfo string
psycopg builds); neither reads the user's PG* variables (PGSERVICE,
PGOPTIONS, PGHOST...) or a service file.  Every session djreset opens waits
at most ``lock_timeout`` seconds for another session's locks.
"""
from __future__ import annotations

import re
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from djreset.actions import Change
from djreset.engines.base import HistoryLock, ServerEngine
from djreset.engines.catalog import Catalog, Quote
from djreset.engines.catalog.postgresql import PostgreSQLCatalog
from djreset.engines.clients import clean_environment, find_program, private_file, run_client, stream_client, without_client_variables
from djreset.errors import SessionsOpen, StepFailed

if TYPE_CHECKING:
    import psycopg
    from psycopg import sql

    from djreset.actions import Actions

# OPTIONS keys that are libpq connection parameters (Django passes the rest
# to itself, e.g. "pool" or "isolation_level").
LIBPQ_OPTIONS = {
    "sslmode", "sslrootcert", "sslcert", "sslkey", "sslpassword",
    "connect_timeout", "target_session_attrs", "gssencmode",
}
FORCE_VERSION = 130000  # DROP DATABASE ... WITH (FORCE)
# Tables whose rows a dump holds: ordinary tables and partitions outside the system schemas.
LIVE_TABLES = """
    SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind = 'r' AND c.relpersistence <> 't'
      AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
    ORDER BY 1, 2
"""
EXTENSION_TABLES = """
    SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e'
"""
# The database's own schemas, besides public: none of the system's or an extension's.
OWN_SCHEMAS = """
    SELECT n.nspname FROM pg_namespace n
    WHERE n.nspname NOT IN ('public', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_namespace'::regclass AND d.objid = n.oid AND d.deptype = 'e')
    ORDER BY 1
"""
TOC_ENTRY = re.compile(r"^\d+; \d+ \d+ ")
EXTENSION = re.compile(r"^\d+; \d+ \d+ EXTENSION - (\S+)")
COPY = re.compile(rb'^COPY ((?:"(?:[^"]|"")*"|[^ ."]+)(?:\.(?:"(?:[^"]|"")*"|[^ ."]+))?) ')
PUBLIC_SCHEMA_VERSION = 150000  # PUBLIC lost CREATE on schema public
HISTORY_LOCK_KEY = 0x646A7265736574  # "djreset": the advisory lock key of django_migrations rewrites


def _qualified(name: bytes) -> str:
    """``public.t`` or ``"My Schema"."T"`` (as COPY names them) → ``schema.table``."""
    parts = re.findall(rb'"((?:[^"]|"")*)"|([^."]+)', name)
    return ".".join((quoted.replace(b'""', b'"') or plain).decode("utf-8", errors="replace") for quoted, plain in parts)


class PostgreSQLEngine(ServerEngine):
    name = "postgresql"
    aliases = ("postgres", "postgis")
    django_backends = ("django.db.backends.postgresql", "django.contrib.gis.db.backends.postgis")
    backend_suffixes = (".postgresql", ".postgis")
    settings_keys = {
        "maintenance_db": str,
        "owner": str,
        "template": str,
        "encoding": str,
        "lc_collate": str,
        "lc_ctype": str,
        "extensions": list,
        "lock_timeout": int,
    }
    refused_options = ("service", "passfile")

    # -- connections -------------------------------------------------------------

    def history_lock(self) -> HistoryLock:
        # A transaction-level advisory lock: released by the commit or rollback itself.
        return HistoryLock(first=(("SELECT pg_advisory_xact_lock(%s)", (HISTORY_LOCK_KEY,)),))

    def describe(self) -> str:
        where = f"{self.spec.host or 'local socket'}:{self.spec.port or 5432}"
        return f"postgresql {self.spec.name} on {where} (app user {self.spec.user or '-'}, admin {self.admin_user or '-'})"

    def session_statements(self) -> list[str]:
        return [f"SET lock_timeout = '{self.lock_timeout}s'"]

    def _conninfo(self, dbname: str) -> str:
        """reset.yaml's settings as a libpq conninfo string (psycopg quotes it), no password:
        the admin connection and the clients use this one."""
        from psycopg.conninfo import make_conninfo

        params = {key: value for key, value in self.spec.options.items() if key in LIBPQ_OPTIONS}
        params.update(dbname=dbname, user=self.admin_user, host=self.spec.host, port=self.spec.port, application_name="djreset")
        params.setdefault("connect_timeout", 10)
        params["options"] = f"-c lock_timeout={self.lock_timeout * 1000}"
        return make_conninfo(**{key: str(value) for key, value in params.items() if value is not None})

    @contextmanager
    def connect(self, dbname: str | None = None) -> Iterator["psycopg.Connection"]:
        """An autocommit admin connection (DROP/CREATE DATABASE refuse transactions)."""
        try:
            import psycopg
        except ImportError:
            raise StepFailed("psycopg is not installed: pip install 'djreset[postgresql]'") from None
        dbname = dbname or self.spec.extra.get("maintenance_db") or "postgres"
        conninfo = self._conninfo(dbname)
        try:
            with without_client_variables():
                connection = psycopg.connect(conninfo, password=self.admin_password or None, autocommit=True)
        except psycopg.OperationalError as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            where = f"{self.spec.host or 'local socket'}:{self.spec.port or 5432}"
            raise StepFailed(f"cannot connect to PostgreSQL database {dbname!r} on {where} as {self.admin_user}: {first}") from None
        with connection:
            yield connection

    def _exists(self, connection: "psycopg.Connection") -> bool:
        row = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [self.spec.name]).fetchone()
        return row is not None

    def _sessions(self, connection: "psycopg.Connection") -> list[tuple]:
        return connection.execute(
            "SELECT pid, usename, application_name, state FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid() ORDER BY pid",
            [self.spec.name],
        ).fetchall()

    def _sessions_error(self, sessions: list[tuple]) -> SessionsOpen:
        listed = "; ".join(f"pid {pid} (user {user}, application {app or '-'}, {state or 'idle'})" for pid, user, app, state in sessions)
        return SessionsOpen(f"{len(sessions)} other session(s) are connected to {self.spec.name!r}: {listed}")

    # -- drop and create -----------------------------------------------------------

    def remember_before_drop(self) -> dict[str, Any]:
        with self.connect() as connection:
            row = connection.execute(
                "SELECT pg_get_userbyid(datdba), pg_encoding_to_char(encoding), datcollate, datctype"
                " FROM pg_database WHERE datname = %s",
                [self.spec.name],
            ).fetchone()
        if row is None:
            return {}
        with self.connect(self.spec.name) as connection:
            extensions = [name for (name,) in connection.execute("SELECT extname FROM pg_extension WHERE extname <> 'plpgsql' ORDER BY extname")]
        owner, encoding, collate, ctype = row
        return {"owner": owner, "encoding": encoding, "lc_collate": collate, "lc_ctype": ctype, "extensions": extensions}

    def scratch_facts(self) -> dict[str, Any]:
        """Also the live database's own schemas: tables a search_path puts there
        (``options: "-c search_path=app"``) are built there in the scratch database too."""
        facts = super().scratch_facts()
        with self.connect(self.spec.name) as connection:
            facts["schemas"] = [name for (name,) in connection.execute(OWN_SCHEMAS)]
        return facts

    def drop(self, actions: "Actions", *, if_exists: bool = True, force: bool = False) -> None:
        import psycopg
        from psycopg import sql

        with self.connect() as connection:
            sessions = self._sessions_to_end(connection, actions, if_exists, force)
            if sessions is None:
                return
            name = sql.Identifier(self.spec.name)
            change = Change(self.alias, "dropped", force=force)
            if force and connection.info.server_version < FORCE_VERSION:
                # Before FORCE existed: stop new sessions, then end the old ones.
                block = sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS false").format(name)
                actions.do(block.as_string(connection), lambda: connection.execute(block), change=change)
                terminate = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()"
                actions.do(terminate.replace("%s", repr(self.spec.name)), lambda: connection.execute(terminate, [self.spec.name]))
            with_force = sql.SQL(" WITH (FORCE)") if force and connection.info.server_version >= FORCE_VERSION else sql.SQL("")
            statement = sql.SQL("DROP DATABASE IF EXISTS {}{}").format(name, with_force)
            try:
                actions.do(statement.as_string(connection), lambda: connection.execute(statement), change=change)
            except psycopg.errors.ObjectInUse:
                actions.retract(change)  # DROP DATABASE is all or nothing
                raise self._sessions_error(self._sessions(connection)) from None
            except psycopg.errors.InsufficientPrivilege as exc:
                actions.retract(change)
                raise StepFailed(f"{self.admin_user} may not drop {self.spec.name!r}: {exc.diag.message_primary} (use the owner or a superuser as admin)") from None
            except psycopg.errors.LockNotAvailable as exc:
                actions.retract(change)
                raise StepFailed(f"drop {self.spec.name!r} waited {self.lock_timeout}s (lock_timeout): {exc.diag.message_primary}; it was not dropped") from None

    def _create_statements(self) -> tuple["sql.Composed", list[tuple["sql.Composed", int]]]:
        """CREATE DATABASE, then (statement, minimum server version) to run inside it."""
        from psycopg import sql

        extra, facts = self.spec.extra, self._facts
        owner = extra.get("owner") or facts.get("owner") or self.spec.user
        encoding = extra.get("encoding") or facts.get("encoding")
        collate = extra.get("lc_collate") or facts.get("lc_collate")
        ctype = extra.get("lc_ctype") or facts.get("lc_ctype")
        # template1 may have another encoding or locale; template0 takes any.
        template = extra.get("template") or ("template0" if encoding or collate or ctype else None)
        parts = [sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.spec.name))]
        for keyword, value, kind in (
            ("OWNER", owner, sql.Identifier),
            ("TEMPLATE", template, sql.Identifier),
            ("ENCODING", encoding, sql.Literal),
            ("LC_COLLATE", collate, sql.Literal),
            ("LC_CTYPE", ctype, sql.Literal),
        ):
            if value:
                parts.append(sql.SQL(keyword + " {}").format(kind(value)))
        inside = [(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)), 0) for schema in facts.get("schemas", [])]
        if owner:
            inside += [(sql.SQL("GRANT ALL ON SCHEMA {} TO {}").format(sql.Identifier(schema), sql.Identifier(owner)), 0) for schema in facts.get("schemas", [])]
        inside += [
            (sql.SQL("CREATE EXTENSION IF NOT EXISTS {}").format(sql.Identifier(extension)), 0)
            for extension in sorted(set(facts.get("extensions", [])) | set(extra.get("extensions", [])))
        ]
        if owner:
            # Before 15, PUBLIC could already create in schema public.
            inside.append((sql.SQL("GRANT ALL ON SCHEMA public TO {}").format(sql.Identifier(owner)), PUBLIC_SCHEMA_VERSION))
        return sql.SQL(" ").join(parts), inside

    def create(self, actions: "Actions", *, if_not_exists: bool = False, exists: bool | None = None) -> None:
        import psycopg

        create, inside = self._create_statements()
        with self.connect() as connection:
            if not self._should_create(connection, actions, if_not_exists, exists):
                return
            change = Change(self.alias, "created")
            try:
                actions.do(create.as_string(connection), lambda: connection.execute(create), change=change)
            except psycopg.Error as exc:
                actions.retract(change)  # CREATE DATABASE is all or nothing
                if not isinstance(exc, psycopg.errors.InsufficientPrivilege):
                    raise StepFailed(f"cannot create {self.spec.name!r}: {exc.diag.message_primary or exc}") from None
                raise StepFailed(
                    f"{self.admin_user} may not create {self.spec.name!r}: {exc.diag.message_primary} "
                    f"(ALTER ROLE {self.admin_user} CREATEDB, or give reset.yaml admin credentials that may)"
                ) from None
            version = connection.info.server_version
        inside = [statement for statement, minimum in inside if version >= minimum]
        if actions.dry:
            for statement in inside:
                actions.do(f"in {self.spec.name}: {statement.as_string(None)}")
            return
        with self.connect(self.spec.name) as connection:
            for statement in inside:
                try:
                    actions.do(f"in {self.spec.name}: {statement.as_string(connection)}", lambda s=statement: connection.execute(s))
                except psycopg.errors.InsufficientPrivilege as exc:
                    raise StepFailed(f"{self.admin_user} may not run {statement.as_string(connection)}: {exc.diag.message_primary}") from None

    # -- backup and restore --------------------------------------------------------

    @contextmanager
    def _client_env(self) -> Iterator[dict[str, str]]:
        """A clean environment, with PGPASSFILE pointing at a 0600 file: the password stays out of argv and env."""
        password = (self.admin_password or "").replace("\\", "\\\\").replace(":", "\\:")
        with private_file("pgpass", f"*:*:*:*:{password}\n") as path:
            yield clean_environment(PGPASSFILE=str(path))

    def _client(self, program: str, *args: str) -> list[str]:
        return [find_program(program), "--no-password", *args]

    def backup(self, folder: Path) -> Path:
        target = folder / "database.pgdump"
        argv = self._client("pg_dump", "--format=custom", f"--file={target}", f"--lock-wait-timeout={self.lock_timeout * 1000}",
                            f"--dbname={self._conninfo(self.spec.name)}")
        with self._client_env() as env:
            run_client(argv, env=env)
        return target

    def _load_dump(self, actions: "Actions", dump: Path) -> None:
        argv = self._client("pg_restore", "--exit-on-error", "--single-transaction", f"--dbname={self._conninfo(self.spec.name)}", str(dump))

        def load() -> None:
            with self._client_env() as env:
                run_client(argv, env=env)

        actions.do(f"pg_restore {dump.name} into {self.spec.name}", load, change=Change(self.alias, "loaded"))

    def server_facts(self) -> dict[str, Any]:
        with self.connect() as connection:
            info = connection.info
            return {"host": info.host, "port": info.port, "user": info.user, "version": info.server_version}

    # -- what a dump holds -----------------------------------------------------------

    def contents(self, quote: Quote, dump: Path | None = None) -> dict[str, int]:
        from psycopg import sql

        with self.connect(self.spec.name) as connection:
            members = {f"{schema}.{table}" for schema, table in connection.execute(EXTENSION_TABLES).fetchall()}
            if dump is not None:  # an extension's own tables are the extension's business
                return {table: rows for table, rows in self._dumped(dump).items() if table not in members}
            return {
                f"{schema}.{table}": connection.execute(sql.SQL("SELECT COUNT(*) FROM {}.{}").format(sql.Identifier(schema), sql.Identifier(table))).fetchone()[0]
                for schema, table in connection.execute(LIVE_TABLES).fetchall()
                if f"{schema}.{table}" not in members
            }

    def catalog(self) -> Catalog:
        return PostgreSQLCatalog()

    def _dumped(self, dump: Path) -> dict[str, int]:
        """Rows per table of a custom-format dump: its COPY blocks, one line a row."""
        counts: dict[str, int] = {}
        current = None
        with self._client_env() as env:
            for line in stream_client(self._client("pg_restore", "--data-only", "--file=-", str(dump)), env=env):
                if current is None:
                    found = COPY.match(line)
                    if found:
                        current = _qualified(found.group(1))
                        counts[current] = 0
                elif line == b"\\.\n":
                    current = None
                else:
                    counts[current] += 1
        return counts

    def check_loadable(self, dump: Path) -> None:
        with self._client_env() as env:
            listing = run_client(self._client("pg_restore", "--list", str(dump)), env=env)
        # Each entry: "id; tableoid oid TYPE schema name owner" (no owner: a trailing space).
        entries = [line for line in listing.splitlines() if TOC_ENTRY.match(line)]
        owners = {line.split()[-1] for line in entries if not line.endswith(" ")} - {"pg_database_owner"}
        extensions = {found.group(1) for found in map(EXTENSION.match, entries) if found}
        problems = self._cannot_load(owners, extensions)
        if problems:
            raise StepFailed(
                f"{self.admin_user} could not load the dump of {self.spec.name!r} back ({'; '.join(problems)}): a restore would fail "
                "after the drop, so djreset stops before anything is dropped; give reset.yaml an admin that may (a superuser, or a member of those roles)"
            )

    def _cannot_load(self, owners: set[str], extensions: set[str]) -> list[str]:
        problems = []
        with self.connect() as connection:
            if connection.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()[0]:
                return []
            for owner in sorted(owners):
                member = connection.execute(
                    "SELECT pg_has_role(current_user, oid, 'MEMBER') FROM pg_roles WHERE rolname = %s", [owner]).fetchone()
                if member is None:
                    problems.append(f"role {owner} owns objects in it and does not exist")
                elif not member[0]:
                    problems.append(f"objects are owned by {owner}, and {self.admin_user} is not a member of that role")
            for extension in sorted(extensions):
                trusted = connection.execute(
                    "SELECT bool_or(trusted) FROM pg_available_extension_versions WHERE name = %s", [extension]).fetchone()[0]
                if not trusted:
                    problems.append(f"extension {extension} needs a superuser to create")
        return problems
