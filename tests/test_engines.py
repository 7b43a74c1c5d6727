"""PostgreSQL and MariaDB for real: sessions, names, privileges, what a re-created database keeps."""
from __future__ import annotations

import json
import os
import secrets
import socket
import stat
import subprocess
import sys
import textwrap
import threading
import time
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Iterator

import pytest

from conftest import EXAMPLE, IGNORE, Result, Target, _server_target, prepared, tree_snapshot
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
        assert "set force: true on drop-db" in refused.err

        # A restore that would drop it names restore's own switch, not drop-db's.
        assert target.djreset("backup", "--env", "dev", "--database").code == 0
        restore = target.djreset("restore", "--env", "dev", "--yes")
        assert restore.code == 1 and "other session(s)" in restore.err, restore.text
        assert "`djreset restore --env dev --force`" in restore.err and "drop-db" not in restore.err, restore.err
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


# -- issue 15: hostile conditions ------------------------------------------------------------


def manifests(project: Path) -> list[dict]:
    root = project / ".djreset" / "backups"
    return [json.loads((f / "manifest.json").read_text()) for f in sorted(root.iterdir()) if (f / "manifest.json").is_file()]


def test_the_clients_read_no_option_file_or_variable_of_the_user(server_target: Target, tmp_path: Path) -> None:
    """~/.my.cnf, a service file, PGOPTIONS: none may send a dump or a load elsewhere, or thin it."""
    target, server = server_target, server_target.server
    home = tmp_path / "home"
    home.mkdir()
    if target.engine == "mysql":
        (home / ".my.cnf").write_text(f"[client]\nport=1\nhost=10.255.255.1\n[mysqldump]\nignore-table={target.database}.catalog_product\n"
                                      f"[mariadb-dump]\nignore-table={target.database}.catalog_product\n")
        hostile = {"HOME": str(home), "MYSQL_TCP_PORT": "1", "MYSQL_HOST": "10.255.255.1"}
    else:
        (home / "services.conf").write_text("[elsewhere]\nport=1\nhost=10.255.255.1\n")
        hostile = {"HOME": str(home), "PGSERVICEFILE": str(home / "services.conf"), "PGSERVICE": "elsewhere",
                   "PGOPTIONS": "-c default_transaction_read_only=on", "PGDATABASE": "postgres"}
    env = target.env(**hostile)
    before = target.introspect()
    made = target.djreset("backup", "--env", "dev", "--yes", "--database", env=env)
    assert made.code == 0, made.text
    where = manifests(target.project)[-1]["databases"]["default"]["server"]
    assert (str(where["host"]), int(where["port"]), where["user"]) == (server.host, server.port, server.users["admin"][0])
    for args in (("drop-db", "--force"), ("create-db",), ("restore",)):
        result = target.djreset(*args, "--env", "dev", "--yes", env=env)
        assert result.code == 0, result.text
    assert target.introspect() == before


def _writer(server: Server, database: str, go: threading.Event, stop: threading.Event, written: list[str], errors: list[BaseException]) -> None:
    """The application: one session, connected all along, committing a row every few milliseconds once ``go`` is set."""
    try:
        with server.connect("app", database) as connection:
            cursor = connection.cursor()
            while not stop.is_set():
                if go.is_set():
                    name = f"live-{len(written)}"
                    cursor.execute("INSERT INTO catalog_tag (name) VALUES (%s)", (name,))
                    written.append(name)
                time.sleep(0.02)
    except BaseException as exc:
        errors.append(exc)


def test_an_application_session_and_its_rows_survive_a_refused_drop(server_target: Target) -> None:
    target, server = server_target, server_target.server
    go, stop, written, errors = threading.Event(), threading.Event(), [], []
    writer = threading.Thread(target=_writer, args=(server, target.database, go, stop, written, errors))
    writer.start()
    try:
        # The app writes from the first step on (a dump taken while it writes would be refused: its rows
        # would not match the live ones), and its session is open when drop-db comes.
        proc = subprocess.Popen([sys.executable, "-m", "djreset", "reset", "--env", "dev", "--yes"], cwd=target.project, env=target.env(),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        out = []
        for line in proc.stdout:
            out.append(line)
            if line.startswith("==> [1/"):
                go.set()
        err = proc.stderr.read()
        proc.wait()
        time.sleep(0.2)
    finally:
        stop.set()
        writer.join()
    result = Result(proc.returncode, "".join(out), err)
    assert result.code == 1 and "other session(s)" in result.err, result.text
    assert "rolled back" in result.out and "KILL" not in result.out and "WITH (FORCE)" not in result.out, result.out
    assert "DROP DATABASE" not in result.out and "database default" not in result.out.split("rolling back")[-1], result.out
    assert written and errors == [], "the application's session was ended"
    rows = {row[0] for row in server.query("SELECT name FROM catalog_tag", database=target.database)}
    assert set(written) <= rows, f"{len(set(written) - rows)} committed rows were lost"


def test_a_drop_that_waited_too_long_leaves_the_database_alone(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    with prepared("mysql", EXAMPLE, "shop.settings", ("seed_demo",), tmp_path, request) as target:
        server = target.server
        target.use_block(target.block[:-1] + ", lock_timeout: 2}")
        before = target.introspect()
        with server.connect("admin") as blocker:  # no default database: not a session "on" it, yet it holds a lock
            blocker.autocommit(False)
            cursor = blocker.cursor()
            cursor.execute(f"SELECT COUNT(*) FROM `{target.database}`.catalog_tag FOR UPDATE")
            cursor.fetchall()
            result = target.djreset("reset", "--env", "dev", "--yes")
            assert result.code == 1 and "lock_timeout" in result.err and "was not dropped" in result.err, result.text
            assert "rolled back" in result.out and "database default" not in result.out.split("rolling back")[-1], result.out
            cursor.execute("SELECT 1")  # still alive
            blocker.rollback()
        assert target.introspect() == before


@contextmanager
def limited_admin(server: Server, database: str, *grants: str) -> Iterator[tuple[str, str]]:
    """A MySQL admin with ALL on one database only (plus ``grants``)."""
    user, password = f"djt_lim_{secrets.token_hex(3)}", "Lim-" + secrets.token_hex(6)
    server.query(f"CREATE USER '{user}'@'127.0.0.1' IDENTIFIED BY '{password}'")
    try:
        server.query(f"GRANT ALL ON `{database}`.* TO '{user}'@'127.0.0.1'")
        for grant in grants:
            server.query(f"GRANT {grant} ON *.* TO '{user}'@'127.0.0.1'")
        yield user, password
    finally:
        server.query(f"DROP USER '{user}'@'127.0.0.1'")


def _with_admin(target: Target, user: str) -> None:
    target.use_block(target.block.replace(f"admin: {{user: {target.server.users['admin'][0]},", f"admin: {{user: {user},"))


def test_a_dump_the_admin_could_not_load_back_stops_the_reset_before_the_drop(server_target: Target) -> None:
    target, server = server_target, server_target.server
    if target.engine == "mysql":
        server.query("CREATE TRIGGER tag_upper BEFORE INSERT ON catalog_tag FOR EACH ROW SET NEW.name = UPPER(NEW.name)", database=target.database)
        context = limited_admin(server, target.database, "PROCESS")
    else:  # a table owned by a role the admin is not a member of
        server.query("GRANT CREATE ON SCHEMA public TO djreset_nocreate", database=target.database, role="app")
        server.query("CREATE TABLE stray (id int); GRANT SELECT ON stray TO djreset_admin, djreset_app", database=target.database, role="nocreate")
        context = nullcontext((server.users["admin"][0], server.users["admin"][1]))
    before = target.introspect()
    with context as (user, password):
        _with_admin(target, user)
        result = target.djreset("reset", "--env", "dev", "--yes", env=target.env(DJT_ADMIN_PASSWORD=password))
    assert result.code == 1, result.text
    assert "stops before anything is dropped" in result.err, result.err
    assert ("DEFINER" if target.engine == "mysql" else "djreset_nocreate") in result.err
    assert "DROP DATABASE" not in result.out
    assert target.introspect() == before


def test_sessions_are_matched_by_the_exact_database_name(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    with prepared("mysql", EXAMPLE, "shop.settings", ("seed_demo",), tmp_path, request) as target:
        server, other = target.server, target.database.upper()
        assert server.query("SELECT @@lower_case_table_names")[0][0] == 0
        server.query(f"CREATE DATABASE `{other}`")
        try:
            with server.connect("admin", other) as elsewhere:
                dropped = target.djreset("drop-db", "--env", "dev", "--yes")
                assert dropped.code == 0, dropped.text
                assert "other session" not in dropped.text and "KILL" not in dropped.out
                elsewhere.cursor().execute("SELECT 1")  # not killed
        finally:
            server.query(f"DROP DATABASE IF EXISTS `{other}`")


def test_drop_refuses_when_the_admin_cannot_see_other_sessions(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    with prepared("mysql", EXAMPLE, "shop.settings", ("seed_demo",), tmp_path, request) as target:
        server = target.server
        with limited_admin(server, target.database) as (user, password), server.connect("app", target.database):
            _with_admin(target, user)
            result = target.djreset("drop-db", "--env", "dev", "--yes", env=target.env(DJT_ADMIN_PASSWORD=password))
            assert result.code == 1 and "lacks the PROCESS privilege" in result.err, result.text
        assert server.exists(target.database)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _one_line(result: Result) -> str:
    assert result.code == 1, result.text
    assert "Traceback" not in result.err and len(result.err.strip().splitlines()) == 1, result.err
    return result.err


RECIPES = [("plan", "--env", "keep"), ("verify", "--env", "keep"), ("reset", "--env", "keep", "--yes"), ("reset", "--env", "dev", "--yes")]


def test_connection_failures_are_one_line_with_host_database_and_user(server_target: Target) -> None:
    target, server = server_target, server_target.server
    before = target.introspect()
    wrong = target.env(DJT_APP_PASSWORD="wrong-" + server.users["app"][1])
    for args in RECIPES:
        error = _one_line(target.djreset(*args, env=wrong))
        assert "cannot connect to" in error and target.database in error and f"127.0.0.1:{server.port}" in error and "djreset_app" in error, error
        assert server.users["app"][1] not in error
    port = _closed_port()
    target.use_block(target.block.replace(f"port: {server.port}", f"port: {port}"))
    for args in RECIPES:
        error = _one_line(target.djreset(*args))
        assert "cannot connect to" in error and f"127.0.0.1:{port}" in error, error
    assert target.introspect() == before


def test_a_held_row_lock_is_a_bounded_wait_and_one_line(server_target: Target) -> None:
    target, server = server_target, server_target.server
    target.use_block(target.block[:-1] + ", lock_timeout: 2}")
    before = target.introspect()
    with server.connect("app", target.database) as holder:
        if target.engine == "mysql":
            holder.autocommit(False)
        else:
            holder.autocommit = False
        cursor = holder.cursor()
        if target.engine == "mysql":  # the row locks cover the gaps where record-new inserts
            cursor.execute("SELECT id FROM django_migrations WHERE app = 'accounts' FOR UPDATE")
            cursor.fetchall()
        else:  # record-new only inserts: PostgreSQL's row locks do not stop it, a table lock does
            cursor.execute("LOCK TABLE django_migrations IN SHARE ROW EXCLUSIVE MODE")
        kept = target.djreset("reset", "--env", "keep", "--yes")
        error = _one_line(kept)
        assert "gave up waiting for a lock" in error, error
        assert "rolled back" in kept.out
        dropped = target.djreset("reset", "--env", "dev", "--yes")
        assert "other session(s)" in _one_line(dropped)
        holder.rollback()
    after = target.introspect()
    assert after == before


def test_a_myisam_django_migrations_is_refused_for_the_rewrite(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    with prepared("mysql", EXAMPLE, "shop.settings", ("seed_demo",), tmp_path, request) as target:
        target.server.query("ALTER TABLE django_migrations ENGINE=MyISAM", database=target.database)
        before = tree_snapshot(target.project)
        result = target.djreset("reset", "--env", "keep", "--yes")
        assert result.code == 1 and "has no transactions" in result.err and "ENGINE=InnoDB" in result.err, result.text
        assert tree_snapshot(target.project) == before


LABEL = """

class Label(models.Model):
    code = models.CharField(max_length=20, db_default="x")
"""
CONDITIONAL_UNIQUE = """
    class Meta:
        constraints = [models.UniqueConstraint(fields=["code"], condition=models.Q(code__gt=""), name="label_code_when_set")]
"""


def test_verify_skips_a_constraint_mysql_cannot_create_as_django_does(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    with prepared("mysql", EXAMPLE, "shop.settings", ("seed_demo",), tmp_path, request) as target:
        models = target.project / "catalog" / "models.py"
        models.write_text(models.read_text() + LABEL)
        target.manage("makemigrations", "catalog", "-v0")
        models.write_text(models.read_text() + CONDITIONAL_UNIQUE)
        target.manage("makemigrations", "catalog", "-v0")
        target.manage("migrate", "-v0")  # AddConstraint: Django skips what MySQL cannot do
        result = target.djreset("verify", "--env", "keep")
        assert result.code == 0, result.text
        assert "verify: ok" in result.out


def test_a_pooled_postgresql_database_is_reset_with_a_pool_of_its_own_for_the_scratch_database(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """Django keeps connection pools per alias on the class: the scratch database
    must get its own, not the live one's (review finding 6)."""
    with prepared("postgresql", EXAMPLE, "shop.settings", ("seed_demo",), tmp_path, request) as target:
        target.use_block(target.block[:-1] + ", options: {pool: true}}")
        before = target.introspect()
        result = target.djreset("reset", "--env", "keep", "--yes")
        assert result.code == 0, result.text
        after = target.introspect()
        assert (after["schema"], after["rows"]) == (before["schema"], before["rows"])


def test_tables_in_a_postgresql_schema_of_their_own_are_reset(tmp_path: Path) -> None:
    """search_path=app: the scratch database gets the live database's own schemas,
    so check and verify build and compare there (review finding 15)."""
    import shutil

    server = Server.find("postgresql")
    name = server.new_name()
    shutil.copytree(EXAMPLE, tmp_path / "shop", ignore=IGNORE)
    target = _server_target(tmp_path / "shop", server, name, "shop.settings")
    with (target.project / "test_settings.py").open("a") as settings:
        settings.write('DATABASES["default"]["OPTIONS"] = {"options": "-c search_path=app"}\n')
    target.use_block(target.block[:-1] + ', options: {options: "-c search_path=app"}}')
    server.create(name)
    try:
        server.query(f"CREATE SCHEMA app AUTHORIZATION {server.users['app'][0]}", database=name)
        target.manage("migrate", "-v0")
        target.manage("seed_demo")
        assert server.query("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'", database=name) == [(0,)]
        before = target.introspect()
        result = target.djreset("reset", "--env", "keep", "--yes")
        assert result.code == 0, result.text
        after = target.introspect()
        assert (after["schema"], after["rows"]) == (before["schema"], before["rows"])
    finally:
        server.drop_matching(name)
