"""PostgreSQL through psycopg 3, the driver Django uses.

Drop and create run on the maintenance database (``postgres`` unless
``maintenance_db`` says otherwise) with the admin credentials; identifiers go
through ``psycopg.sql.Identifier``, values through ``sql.Literal``.
"""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from djreset.engines.base import ServerEngine
from djreset.engines.clients import find_program, private_file, run_client
from djreset.errors import StepFailed

if TYPE_CHECKING:
    import psycopg
    from psycopg import sql

    from djreset.actions import Actions

# OPTIONS keys that are libpq connection parameters (Django passes the rest
# to itself, e.g. "pool" or "isolation_level").
LIBPQ_OPTIONS = {
    "sslmode", "sslrootcert", "sslcert", "sslkey", "sslpassword", "service", "passfile",
    "connect_timeout", "options", "target_session_attrs", "application_name", "gssencmode",
}
FORCE_VERSION = 130000  # DROP DATABASE ... WITH (FORCE)
PUBLIC_SCHEMA_VERSION = 150000  # PUBLIC lost CREATE on schema public


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
    }

    # -- connections -------------------------------------------------------------

    def describe(self) -> str:
        where = f"{self.spec.host or 'local socket'}:{self.spec.port or 5432}"
        return f"postgresql {self.spec.name} on {where} (app user {self.spec.user or '-'}, admin {self.admin_user or '-'})"

    @contextmanager
    def connect(self, dbname: str | None = None) -> Iterator["psycopg.Connection"]:
        """An autocommit admin connection (DROP/CREATE DATABASE refuse transactions)."""
        try:
            import psycopg
        except ImportError:
            raise StepFailed("psycopg is not installed: pip install 'djreset[postgresql]'") from None
        user = self.admin_user
        params = {key: value for key, value in self.spec.options.items() if key in LIBPQ_OPTIONS}
        params.update(
            dbname=dbname or self.spec.extra.get("maintenance_db") or "postgres",
            user=user,
            password=self.admin_password or None,
            host=self.spec.host,
            port=self.spec.port,
            application_name="djreset",
        )
        params.setdefault("connect_timeout", 10)
        try:
            connection = psycopg.connect(autocommit=True, **{k: v for k, v in params.items() if v is not None})
        except psycopg.OperationalError as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise StepFailed(f"cannot connect to PostgreSQL database {params['dbname']!r} as {user}: {first}") from None
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

    def _sessions_error(self, sessions: list[tuple]) -> StepFailed:
        listed = "; ".join(f"pid {pid} (user {user}, application {app or '-'}, {state or 'idle'})" for pid, user, app, state in sessions)
        return StepFailed(
            f"{len(sessions)} other session(s) are connected to {self.spec.name!r}: {listed}. "
            "Close them, or set force: true on drop-db to end them"
        )

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

    def drop(self, actions: "Actions", *, if_exists: bool = True, force: bool = False) -> None:
        import psycopg
        from psycopg import sql

        with self.connect() as connection:
            sessions = self._sessions_to_end(connection, actions, if_exists, force)
            if sessions is None:
                return
            name = sql.Identifier(self.spec.name)
            if force and connection.info.server_version < FORCE_VERSION:
                # Before FORCE existed: stop new sessions, then end the old ones.
                block = sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS false").format(name)
                actions.do(block.as_string(connection), lambda: connection.execute(block))
                terminate = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()"
                actions.do(terminate.replace("%s", repr(self.spec.name)), lambda: connection.execute(terminate, [self.spec.name]))
            with_force = sql.SQL(" WITH (FORCE)") if force and connection.info.server_version >= FORCE_VERSION else sql.SQL("")
            statement = sql.SQL("DROP DATABASE IF EXISTS {}{}").format(name, with_force)
            try:
                actions.do(statement.as_string(connection), lambda: connection.execute(statement))
            except psycopg.errors.ObjectInUse:
                raise self._sessions_error(self._sessions(connection)) from None
            except psycopg.errors.InsufficientPrivilege as exc:
                raise StepFailed(f"{self.admin_user} may not drop {self.spec.name!r}: {exc.diag.message_primary} (use the owner or a superuser as admin)") from None

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
        inside = [
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
            try:
                actions.do(create.as_string(connection), lambda: connection.execute(create))
            except psycopg.errors.InsufficientPrivilege as exc:
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
        """PGPASSFILE pointing at a 0600 file: the password stays out of argv and env."""
        password = (self.admin_password or "").replace("\\", "\\\\").replace(":", "\\:")
        with private_file("pgpass", f"*:*:*:*:{password}\n") as path:
            yield {"PGPASSFILE": str(path), "PGAPPNAME": "djreset"}

    def _client_args(self) -> list[str]:
        args = ["--no-password"]
        if self.spec.host:
            args.append(f"--host={self.spec.host}")
        if self.spec.port:
            args.append(f"--port={self.spec.port}")
        if self.admin_user:
            args.append(f"--username={self.admin_user}")
        return args

    def backup(self, folder: Path) -> Path:
        target = folder / "database.pgdump"
        program = find_program("pg_dump")
        with self._client_env() as env:
            run_client([program, "--format=custom", f"--file={target}", *self._client_args(), f"--dbname={self.spec.name}"], env=env)
        return target

    def _load_dump(self, actions: "Actions", dump: Path) -> None:
        program = find_program("pg_restore")
        argv = [program, "--exit-on-error", "--single-transaction", *self._client_args(), f"--dbname={self.spec.name}", str(dump)]

        def load() -> None:
            with self._client_env() as env:
                run_client(argv, env=env)

        actions.do(f"pg_restore {dump.name} into {self.spec.name}", load)
