"""The real PostgreSQL and MariaDB servers the tests run against.

``scripts/dev-servers start`` starts them and writes their settings to
.work/servers/servers.env; the same variables may come from the environment
(that is what CI does).  Without a server the tests that need it skip with a
message saying how to start it, unless DJRESET_REQUIRE_SERVERS=1 (CI), where a
missing server fails the run.
"""
from __future__ import annotations

import os
import secrets
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pytest

REPO = Path(__file__).resolve().parent.parent
SERVERS_ENV = REPO / ".work" / "servers" / "servers.env"
PREFIX = {"postgresql": "PG", "mysql": "MYSQL"}
# The variable names reset.yaml uses for the test passwords.
APP_VAR, ADMIN_VAR = "DJT_APP_PASSWORD", "DJT_ADMIN_PASSWORD"


def _settings() -> dict[str, str]:
    values = {}
    if SERVERS_ENV.is_file():
        for line in SERVERS_ENV.read_text().splitlines():
            key, _, value = line.partition("=")
            values[key] = value
    values.update({k: v for k, v in os.environ.items() if k.startswith("DJRESET_TEST_")})
    return values


@dataclass(frozen=True)
class Server:
    engine: str
    host: str
    port: int
    users: dict[str, tuple[str, str]]  # role → (user, password)

    @classmethod
    def find(cls, engine: str) -> "Server":
        prefix = f"DJRESET_TEST_{PREFIX[engine]}_"
        values = _settings()
        if prefix + "PORT" not in values:
            message = f"no {engine} test server: start one with `scripts/dev-servers start` (or run scripts/test)"
            if os.environ.get("DJRESET_REQUIRE_SERVERS") == "1":
                pytest.fail(message, pytrace=False)
            pytest.skip(message)
        users = {role: (values[f"{prefix}{role.upper()}"], values[f"{prefix}{role.upper()}_PASSWORD"]) for role in ("admin", "app", "nocreate")}
        server = cls(engine, values[prefix + "HOST"], int(values[prefix + "PORT"]), users)
        try:
            with server.admin():
                pass
        except Exception as exc:  # the file is there but the server is not
            message = f"{engine} test server at {server.host}:{server.port} does not answer ({exc}); restart it with `scripts/dev-servers start`"
            if os.environ.get("DJRESET_REQUIRE_SERVERS") == "1":
                pytest.fail(message, pytrace=False)
            pytest.skip(message)
        return server

    # -- connections ---------------------------------------------------------------

    @contextmanager
    def connect(self, role: str = "admin", database: str | None = None) -> Iterator[Any]:
        user, password = self.users[role]
        if self.engine == "postgresql":
            import psycopg

            with psycopg.connect(host=self.host, port=self.port, user=user, password=password,
                                 dbname=database or "postgres", autocommit=True, application_name="djreset-tests") as conn:
                yield conn
        else:
            import MySQLdb

            conn = MySQLdb.connect(host=self.host, port=self.port, user=user, password=password,
                                   database=database or "", autocommit=True, charset="utf8mb4")
            try:
                yield conn
            finally:
                conn.close()

    def admin(self, database: str | None = None):
        return self.connect("admin", database)

    def query(self, sql: str, params: tuple = (), database: str | None = None, role: str = "admin") -> list[tuple]:
        with self.connect(role, database) as conn:
            cursor = conn.cursor()
            cursor.execute(sql, params or None)
            try:
                return list(cursor.fetchall())
            except Exception:  # statements without rows
                return []

    # -- databases -----------------------------------------------------------------

    def new_name(self) -> str:
        return f"djt_{secrets.token_hex(4)}"

    def create(self, name: str, template: str | None = None) -> None:
        if self.engine == "postgresql":
            from psycopg import sql

            statement = sql.SQL("CREATE DATABASE {} OWNER djreset_app").format(sql.Identifier(name))
            if template:
                statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
            with self.admin() as conn:
                conn.execute(statement)
                # PostgreSQL 15: the app user needs CREATE on schema public.
            with self.admin(name) as conn:
                conn.execute("GRANT ALL ON SCHEMA public TO djreset_app")
        else:
            self.query(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")

    def drop_matching(self, prefix: str) -> None:
        """Drop the test's database and every scratch database made from it
        (``djrs_<tag>_`` and the start of its name)."""
        scratch = "djrs\\_%\\_" + prefix.replace("_", "\\_") + "%"
        if self.engine == "postgresql":
            from psycopg import sql

            names = [row[0] for row in self.query("SELECT datname FROM pg_database WHERE datname LIKE %s OR datname LIKE %s", (prefix + "%", scratch))]
            with self.admin() as conn:
                for name in names:
                    conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        else:
            names = [row[0] for row in self.query(
                "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE %s OR SCHEMA_NAME LIKE %s", (prefix + "%", scratch)
            )]
            for name in names:
                self.query(f"DROP DATABASE IF EXISTS `{name}`")

    def exists(self, name: str) -> bool:
        if self.engine == "postgresql":
            return bool(self.query("SELECT 1 FROM pg_database WHERE datname = %s", (name,)))
        return bool(self.query("SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s", (name,)))

    # -- what the project copy needs -----------------------------------------------

    def django_database(self, name: str) -> dict[str, Any]:
        user, password = self.users["app"]
        engine = "django.db.backends.postgresql" if self.engine == "postgresql" else "django.db.backends.mysql"
        entry = {"ENGINE": engine, "NAME": name, "USER": user, "PASSWORD": password, "HOST": self.host, "PORT": str(self.port)}
        if self.engine == "mysql":
            entry["OPTIONS"] = {"charset": "utf8mb4"}
        return entry

    def yaml_block(self, name: str, admin_role: str = "admin", **extra: Any) -> str:
        """A reset.yaml database mapping, passwords as ${VAR}."""
        admin_user = self.users[admin_role][0]
        fields = [f"engine: {self.engine}", f"name: {name}", f"host: {self.host}", f"port: {self.port}",
                  f"user: {self.users['app'][0]}", f"password: '${{{APP_VAR}}}'",
                  f"admin: {{user: {admin_user}, password: '${{{ADMIN_VAR}}}'}}"]
        fields += [f"{key}: {value}" for key, value in extra.items()]
        return "{" + ", ".join(fields) + "}"

    def env(self, admin_role: str = "admin") -> dict[str, str]:
        return {APP_VAR: self.users["app"][1], ADMIN_VAR: self.users[admin_role][1]}
