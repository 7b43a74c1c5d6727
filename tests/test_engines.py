"""PostgreSQL and MariaDB for real: sessions, names, privileges, what a re-created database keeps."""
from __future__ import annotations

import os
import stat
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import Target
from servers import Server

SERVER_ENGINES = ("postgresql", "mysql")


def _session_sql(engine: str) -> str:
    # Something that holds the database open (and, on MySQL, a metadata lock).
    return "SELECT 1" if engine == "postgresql" else "SELECT COUNT(*) FROM accounts_user"


def test_drop_refuses_while_another_session_is_open_and_force_ends_it(server_target: Target) -> None:
    target, server = server_target, server_target.server
    with server.connect("app", target.database) as other:
        cursor = other.cursor()
        if target.engine == "mysql":
            other.autocommit(False)  # an open transaction: DROP would wait on it
        cursor.execute(_session_sql(target.engine))
        cursor.fetchall()

        refused = target.djreset("drop-db", "--env", "dev", "--yes")
        assert refused.code == 1, refused.text
        assert "other session(s)" in refused.err
        assert "djreset_app" in refused.err
        if target.engine == "postgresql":
            assert "pid " in refused.err and "djreset-tests" in refused.err
        else:
            assert "id " in refused.err
        assert server.exists(target.database)

        forced = target.djreset("drop-db", "--env", "dev", "--yes", "--force")
        assert forced.code == 0, forced.text
        assert not server.exists(target.database)
        expected = "WITH (FORCE)" if target.engine == "postgresql" else "KILL "
        assert expected in forced.out


@pytest.mark.parametrize("engine", SERVER_ENGINES)
def test_a_name_that_needs_quoting_works_end_to_end(engine: str, bare_shop: Path) -> None:
    server = Server.find(engine)
    name = server.new_name().replace("_", "-") + "-x"  # djt-1a2b3c4d-x: not a bare identifier
    target = Target(engine, bare_shop, server, name)
    target.use_block(server.yaml_block(name))
    try:
        result = target.djreset("reset", "--env", "dev", "--yes")
        assert result.code == 0, result.text
        assert server.exists(name)
        quoted = f'"{name}"' if engine == "postgresql" else f"`{name}`"
        assert quoted in result.out
        tables = target.introspect()["schema"]
        assert "orders_orderline" in tables
    finally:
        server.drop_matching(name)


@pytest.mark.parametrize("name", ['shop"; DROP DATABASE postgres; --', "shop`; DROP DATABASE mysql; --", "my shop", "boutique_é", "a.b", ""])
@pytest.mark.parametrize("engine", SERVER_ENGINES)
def test_the_engines_refuse_names_they_cannot_quote_safely(engine: str, name: str) -> None:
    """Even a caller that skipped reset.yaml's checks cannot inject through a name."""
    from djreset import engines
    from djreset.config import DatabaseSpec
    from djreset.errors import ConfigError

    with pytest.raises(ConfigError, match="database names may use"):
        engines.for_spec(DatabaseSpec(alias="default", engine=engine, name=name))


def test_missing_privilege_gives_a_clear_error(server_target: Target) -> None:
    target, server = server_target, server_target.server
    name = target.database + "_new"
    target.use_block(server.yaml_block(name, admin_role="nocreate"))
    result = target.djreset("create-db", "--env", "dev", "--yes", env=target.env(DJT_ADMIN_PASSWORD=server.users["nocreate"][1]))
    assert result.code == 1, result.text
    assert "djreset_nocreate may not create" in result.err
    if target.engine == "postgresql":
        assert "CREATEDB" in result.err
    assert "Traceback" not in result.err
    assert not server.exists(name)


def test_recreated_postgresql_database_keeps_owner_encoding_collation_and_extensions(bare_shop: Path) -> None:
    server = Server.find("postgresql")
    name = server.new_name()
    from psycopg import sql

    with server.admin() as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} OWNER djreset_app TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'").format(
                sql.Identifier(name)
            )
        )
    with server.admin(name) as conn:
        conn.execute("CREATE EXTENSION pg_trgm")
        conn.execute("CREATE EXTENSION citext")
    target = Target("postgresql", bare_shop, server, name)
    target.use_block(server.yaml_block(name))
    try:
        result = target.djreset("reset", "--env", "dev", "--yes")
        assert result.code == 0, result.text
        row = server.query(
            "SELECT pg_get_userbyid(datdba), pg_encoding_to_char(encoding), datcollate, datctype FROM pg_database WHERE datname = %s",
            (name,),
        )
        assert row == [("djreset_app", "UTF8", "C", "C")]
        extensions = {r[0] for r in server.query("SELECT extname FROM pg_extension", database=name)}
        assert {"pg_trgm", "citext"} <= extensions
        # The app user, not the admin, owns what migrate created.
        owners = {r[0] for r in server.query("SELECT tableowner FROM pg_tables WHERE schemaname = 'public'", database=name)}
        assert owners == {"djreset_app"}
    finally:
        server.drop_matching(name)


def test_recreated_mysql_database_keeps_its_charset_and_collation(bare_shop: Path) -> None:
    server = Server.find("mysql")
    name = server.new_name()
    server.query(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
    target = Target("mysql", bare_shop, server, name)
    target.use_block(server.yaml_block(name))
    try:
        result = target.djreset("reset", "--env", "dev", "--yes")
        assert result.code == 0, result.text
        row = server.query("SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s", (name,))
        assert row == [("utf8mb4", "utf8mb4_bin")]
    finally:
        server.drop_matching(name)


def test_new_mysql_database_is_utf8mb4_even_when_the_server_default_is_not(bare_shop: Path) -> None:
    server = Server.find("mysql")
    default = server.query("SELECT @@character_set_server")[0][0]
    assert default != "utf8mb4", "the test server must keep MariaDB's own default (latin1) for this test to mean anything"
    name = server.new_name()
    target = Target("mysql", bare_shop, server, name)
    target.use_block(server.yaml_block(name))
    try:
        result = target.djreset("create-db", "--env", "dev", "--yes")
        assert result.code == 0, result.text
        row = server.query("SELECT DEFAULT_CHARACTER_SET_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s", (name,))
        assert row == [("utf8mb4",)]
    finally:
        server.drop_matching(name)


def _spy_on(program: str, folder: Path, log: Path) -> None:
    """Put a ``program`` first on PATH that records its argv, then runs the real one."""
    real = None
    for entry in os.environ["PATH"].split(os.pathsep):
        candidate = Path(entry) / program
        if candidate.is_file() and os.access(candidate, os.X_OK):
            real = candidate
            break
    assert real, f"{program} is not installed"
    spy = folder / program
    spy.write_text(
        textwrap.dedent(
            f"""\
            #!{sys.executable}
            import os, sys
            with open({str(log)!r}, "ab") as log:
                log.write(open("/proc/self/cmdline", "rb").read() + b"\\n")
            os.execv({str(real)!r}, [{str(real)!r}, *sys.argv[1:]])
            """
        )
    )
    spy.chmod(spy.stat().st_mode | stat.S_IEXEC)


def test_backup_and_restore_put_the_database_back_without_passwords_in_argv(target: Target, tmp_path: Path) -> None:
    if target.engine == "sqlite":
        programs: tuple[str, ...] = ()
    elif target.engine == "postgresql":
        programs = ("pg_dump", "pg_restore")
    else:
        programs = ("mariadb-dump", "mariadb")
    bin_dir, log = tmp_path / "spy-bin", tmp_path / "argv.log"
    bin_dir.mkdir()
    for program in programs:
        _spy_on(program, bin_dir, log)
    env = target.env(PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    before = target.introspect()

    made = target.djreset("backup", "--env", "dev", "--yes", "--database", env=env)
    assert made.code == 0, made.text
    # Damage the data, then put it back.
    target.djreset("drop-db", "--env", "dev", "--yes", "--force", env=env)
    target.djreset("create-db", "--env", "dev", "--yes", env=env)
    restored = target.djreset("restore", "--env", "dev", "--yes", env=env)
    assert restored.code == 0, restored.text
    assert target.introspect() == before

    if programs:
        recorded = log.read_bytes()
        assert all(program.encode() in recorded for program in programs), recorded
        for _user, password in target.server.users.values():
            assert password.encode() not in recorded
        assert password.encode() not in (made.text + restored.text).encode()


# What each engine sends, for each set of options: the exact statements, as
# invoke's --dry prints them (the real server answers the questions a dry run
# asks, such as "does the database exist?").
STATEMENTS = [
    ("postgresql", "", ["drop-db"], ['DROP DATABASE IF EXISTS "{name}"']),
    ("postgresql", "", ["drop-db", "--force"], ['DROP DATABASE IF EXISTS "{name}" WITH (FORCE)']),
    ("postgresql", "", ["create-db"], ['CREATE DATABASE "{name}_new" OWNER "djreset_app"', 'in {name}_new: GRANT ALL ON SCHEMA public TO "djreset_app"']),
    (
        "postgresql",
        ", owner: djreset_admin, encoding: UTF8, lc_collate: C, lc_ctype: C, extensions: [pg_trgm]",
        ["create-db"],
        [
            'CREATE DATABASE "{name}_new" OWNER "djreset_admin" TEMPLATE "template0" ENCODING \'UTF8\' LC_COLLATE \'C\' LC_CTYPE \'C\'',
            'in {name}_new: CREATE EXTENSION IF NOT EXISTS "pg_trgm"',
            'in {name}_new: GRANT ALL ON SCHEMA public TO "djreset_admin"',
        ],
    ),
    (
        "postgresql",
        ", template: template0",
        ["create-db"],
        ['CREATE DATABASE "{name}_new" OWNER "djreset_app" TEMPLATE "template0"', 'in {name}_new: GRANT ALL ON SCHEMA public TO "djreset_app"'],
    ),
    ("mysql", "", ["drop-db"], ["DROP DATABASE IF EXISTS `{name}`"]),
    ("mysql", "", ["create-db"], ["CREATE DATABASE `{name}_new` CHARACTER SET 'utf8mb4'"]),
    ("mysql", ", charset: latin1", ["create-db"], ["CREATE DATABASE `{name}_new` CHARACTER SET 'latin1'"]),
    ("mysql", ", charset: utf8mb4, collation: utf8mb4_bin", ["create-db"], ["CREATE DATABASE `{name}_new` CHARACTER SET 'utf8mb4' COLLATE 'utf8mb4_bin'"]),
]


@pytest.mark.parametrize("engine,extra,args,statements", STATEMENTS, ids=[f"{e}:{' '.join(a)}{x}" for e, x, a, _ in STATEMENTS])
def test_options_to_exact_statements(engine: str, extra: str, args: list[str], statements: list[str], bare_shop: Path) -> None:
    server = Server.find(engine)
    name = server.new_name()
    server.create(name)
    target = Target(engine, bare_shop, server, name)
    database = f"{name}_new" if args[0] == "create-db" else name
    target.use_block(server.yaml_block(database)[:-1] + extra + "}")
    try:
        result = target.djreset("--dry", *args, "--env", "dev", "--yes")
        assert result.code == 0, result.text
        printed = [line.strip()[len("would "):] for line in result.out.splitlines() if line.strip().startswith("would ")]
        assert printed == [statement.format(name=name) for statement in statements]
        assert server.exists(name) and not server.exists(f"{name}_new")  # a dry run changes nothing
    finally:
        server.drop_matching(name)


def test_a_session_that_ends_before_its_kill_is_not_an_error() -> None:
    """drop-db with force lists the sessions, then KILLs each: one may end in between
    (seen under load as "KILL 1674: Unknown thread id" failing a scratch database's drop)."""
    import io

    from djreset import engines
    from djreset.actions import Actions
    from djreset.ui import Output

    server = Server.find("mysql")
    engine = engines.for_django("default", server.django_database("mysql"))
    with engine.connect() as connection:
        engine._run(Actions(Output(io.StringIO()), dry=False), connection, "KILL %s", (2_000_000_000,), what="end other sessions")
