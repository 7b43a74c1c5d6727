"""Nothing is lost: fault injection, rollback, the journal, the lock, protected environments, secrets."""
from __future__ import annotations

import json
import os
import pty
import resource
import shutil
import signal
import stat
import subprocess
import sys
import textwrap
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import pytest

from conftest import ENGINES, EXAMPLE, Result, Target, clean_env, prepared, run_djreset, tree_snapshot

CASE1 = ("dev", ("clean-files", "drop-db", "create-db", "makemigrations", "migrate"), ("inside:clean-files", "inside:drop-db"))
CASE2 = (
    "keep",
    ("check", "verify", "clean-files", "makemigrations", "record-new", "verify"),
    ("inside:clean-files", "inside:record-new"),
)


def fault_points() -> list[tuple[str, str]]:
    """Every step boundary of both recipes, and inside their destructive parts."""
    points = []
    for env, steps, inside in (CASE1, CASE2):
        points.append((env, "before:1"))
        points += [(env, f"after:{n}") for n in range(1, len(steps) + 1)]
        points += [(env, point) for point in inside]
    return points


def state(target: Target) -> tuple[dict, dict]:
    """Everything a reset may touch: the project's files (not djreset's own) and the database."""
    # The SQLite file is compared through introspection (the backup API copies
    # pages, not bytes); everything else byte for byte.
    files = {
        path: data
        for path, data in tree_snapshot(target.project).items()
        if not path.startswith(".djreset/") and not path.startswith("db.sqlite3")
    }
    return files, target.introspect()


@pytest.mark.parametrize("env,point", fault_points(), ids=[f"{env}-{point}" for env, point in fault_points()])
def test_killed_at_any_point_restore_puts_everything_back(target: Target, env: str, point: str, record_property) -> None:
    before = state(target)
    killed = target.djreset("reset", "--env", env, "--yes", env=target.env(DJRESET_FAULT=point))
    recovered = False
    try:
        assert killed.code == -signal.SIGKILL, killed.text
        if (target.project / ".djreset" / "journal.json").exists():
            # Killed after the run started changing things: nothing else may
            # run on top of it, and restore puts everything back.
            again = target.djreset("reset", "--env", env, "--yes")
            assert again.code == 1, again.text
            assert "did not finish" in again.err and "djreset restore" in again.err
            restored = target.djreset("restore", "--env", env, "--yes")
            assert restored.code == 0, restored.text
        else:
            # Killed before the first step that changes anything (check, verify):
            # nothing to put back, nothing to refuse.
            assert env == "keep" and point in ("before:1", "after:1", "after:2"), "a kill after a change must leave a journal"
        after = state(target)
        assert after[0] == before[0], "files differ"
        assert after[1]["history_rows"] == before[1]["history_rows"], "django_migrations differs"
        assert after[1] == before[1], "schema or data differ"
        recovered = True
        # And the project works again: the same reset now runs to the end.
        done = target.djreset("reset", "--env", env, "--yes")
        assert done.code == 0, done.text
    finally:
        record_property("fault point", recovered)


@pytest.mark.parametrize("env,point", [("dev", "term:after:3"), ("keep", "term:inside:record-new"), ("keep", "term:after:4")])
def test_sigterm_rolls_back_by_itself(target: Target, env: str, point: str) -> None:
    before = state(target)
    result = target.djreset("reset", "--env", env, "--yes", env=target.env(DJRESET_FAULT=point))
    assert result.code == 143, result.text
    assert "rolling back (interrupted)" in result.out
    assert "rolled back:" in result.out
    assert state(target) == before
    assert target.djreset("reset", "--env", env, "--yes").code == 0  # nothing left unfinished


def test_a_failing_step_rolls_back(target: Target) -> None:
    config = target.project / "reset.yaml"
    config.write_text(config.read_text() + "  broken:\n    extends: keep\n    steps: [clean-files, makemigrations, record-new, {run: 'exit 7'}]\n")
    before = state(target)
    result = target.djreset("reset", "--env", "broken", "--yes")
    assert result.code == 1, result.text
    assert "`exit 7` exited with status 7" in result.err
    assert "rolling back (a step failed)" in result.out
    assert state(target) == before


def test_a_refusal_before_any_change_needs_no_rollback(shop: Path) -> None:
    models = shop / "catalog" / "models.py"
    models.write_text(models.read_text() + "\n\nclass Pending(__import__('django').db.models.Model):\n    pass\n")
    result = run_djreset("reset", "--env", "keep", "--yes", cwd=shop)
    assert result.code == 1
    assert "rolling back" not in result.out
    assert not (shop / ".djreset" / "backups").exists()  # no backup for a run that changed nothing


def test_plan_warns_about_an_unfinished_reset(shop: Path) -> None:
    killed = run_djreset("reset", "--env", "keep", "--yes", cwd=shop, env=clean_env(DJRESET_FAULT="inside:clean-files"))
    assert killed.code == -signal.SIGKILL
    plan = run_djreset("plan", "--env", "keep", cwd=shop)
    assert "warning: a reset of environment 'keep'" in plan.out and "did not finish" in plan.out
    single = run_djreset("clean-files", "--env", "keep", "--yes", cwd=shop)
    assert single.code == 1 and "did not finish" in single.err
    status = run_djreset("status", cwd=shop)  # a deploy gate must not pass over a half-done reset
    assert status.code == 1, status.text
    assert "✗ a reset of environment 'keep'" in status.out and "run `djreset restore --env keep`" in status.out
    assert "Django cannot load the migrations" in status.err  # the half-deleted files, as they are


def test_two_resets_of_one_project_cannot_run_at_once(shop: Path) -> None:
    config = shop / "reset.yaml"
    config.write_text(config.read_text() + "  slow:\n    extends: keep\n    steps: [clean-files, {run: 'sleep 4'}]\n")
    first = subprocess.Popen([sys.executable, "-m", "djreset", "reset", "--env", "slow", "--yes"], cwd=shop, env=clean_env(),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline, lock = time.monotonic() + 60, shop / ".djreset" / "lock"
        while not (lock.exists() and lock.read_text().strip() == str(first.pid)) and time.monotonic() < deadline:
            time.sleep(0.05)
        second = run_djreset("reset", "--env", "keep", "--yes", cwd=shop)
        assert second.code == 1, second.text
        assert f"another djreset (pid {first.pid}) is resetting this project right now" in second.err
    finally:
        first.communicate(timeout=60)
    assert first.returncode == 0


# -- protected environments ----------------------------------------------------------


def protected_project(shop: Path) -> None:
    config = shop / "reset.yaml"
    config.write_text(config.read_text() + "  prod:\n    extends: keep\n    protected: true\n")


def test_protected_environment_refuses_yes_alone(shop: Path) -> None:
    protected_project(shop)
    before = tree_snapshot(shop)
    result = run_djreset("reset", "--env", "prod", "--yes", cwd=shop)
    assert result.code == 1
    assert "'prod' is protected: --yes also needs DJRESET_CONFIRM=prod" in result.err
    wrong = run_djreset("reset", "--env", "prod", "--yes", cwd=shop, env=clean_env(DJRESET_CONFIRM="keep"))
    assert wrong.code == 1
    assert tree_snapshot(shop) == before
    right = run_djreset("reset", "--env", "prod", "--yes", cwd=shop, env=clean_env(DJRESET_CONFIRM="prod"))
    assert right.code == 0, right.text


def test_an_environment_on_another_machine_is_protected_by_default(shop: Path) -> None:
    config = shop / "reset.yaml"
    config.write_text(config.read_text() + "  remote:\n    extends: keep\n    database: {engine: postgresql, name: shop, host: db.internal.example}\n")
    result = run_djreset("reset", "--env", "remote", "--yes", cwd=shop)
    assert result.code == 1
    assert "'remote' is protected" in result.err


def _on_a_terminal(shop: Path, args: list[str], answer: str) -> tuple[int, str]:
    """Run djreset with a pseudo-terminal as stdin and type ``answer`` at its prompt."""
    main, secondary = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "djreset", *args], cwd=shop, env=clean_env(), stdin=secondary,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    os.close(secondary)
    os.write(main, (answer + "\n").encode())
    out, _ = proc.communicate(timeout=120)
    os.close(main)
    return proc.returncode, out


def test_protected_environment_on_a_terminal_needs_the_database_name(shop: Path) -> None:
    protected_project(shop)
    code, out = _on_a_terminal(shop, ["reset", "--env", "prod"], "yes")
    assert code == 1 and "the name did not match; nothing was changed" in out
    code, out = _on_a_terminal(shop, ["reset", "--env", "prod"], "db.sqlite3")
    assert code == 0, out
    assert "Type the database name (db.sqlite3)" in out


def test_unprotected_environment_on_a_terminal_asks_yes(shop: Path) -> None:
    code, out = _on_a_terminal(shop, ["reset", "--env", "keep"], "n")
    assert code == 1 and "cancelled; nothing was changed" in out
    code, out = _on_a_terminal(shop, ["reset", "--env", "keep"], "y")
    assert code == 0, out


# -- secrets -----------------------------------------------------------------------


def test_passwords_never_reach_output_or_errors(server_target: Target) -> None:
    target = server_target
    app_password = target.server.users["app"][1]
    outputs = [target.djreset("plan", "--env", "keep"), target.djreset("reset", "--env", "dev", "--yes")]
    # A wrong admin password: the error names the user, never the password.
    wrong = "wrong-" + app_password
    failed = target.djreset("drop-db", "--env", "dev", "--yes", env=target.env(DJT_ADMIN_PASSWORD=wrong))
    assert failed.code == 1 and "cannot connect" in failed.err
    outputs.append(failed)
    for result in outputs:
        for secret in (app_password, target.server.users["admin"][1], wrong):
            assert secret not in result.text
    for path in (target.project / ".djreset").rglob("*"):
        if path.is_file() and path.suffix in (".json", ".txt", ""):
            assert app_password not in path.read_text(errors="replace")


# -- issue 12: nothing lost, for real ----------------------------------------------------


def backups_of(project: Path) -> list[dict]:
    """Complete backups' manifests, oldest first."""
    root = project / ".djreset" / "backups"
    return [json.loads((folder / "manifest.json").read_text()) for folder in sorted(root.iterdir()) if (folder / "manifest.json").is_file()]


def journal(project: Path) -> dict:
    return json.loads((project / ".djreset" / "journal.json").read_text())


def with_env(project: Path, name: str, body: str) -> None:
    config = project / "reset.yaml"
    config.write_text(config.read_text() + f"  {name}:\n" + textwrap.indent(textwrap.dedent(body), "    "))


def test_restore_is_undoable_its_safety_backup_holds_the_live_database(target: Target) -> None:
    assert target.djreset("reset", "--env", "dev", "--yes").code == 0
    reset_backup = backups_of(target.project)[-1]["id"]
    target.sql("INSERT INTO catalog_tag (name) VALUES ('precious')")
    live = target.introspect()
    restored = target.djreset("restore", "--env", "dev", "--yes", "--backup", reset_backup)
    assert restored.code == 0, restored.text
    assert '["precious"]' not in json.dumps(target.introspect()["rows"]["catalog_tag"])
    safety = backups_of(target.project)[-1]
    assert safety["reason"] == "before restore" and "default" in safety["databases"], safety
    undone = target.djreset("restore", "--env", "dev", "--yes", "--backup", safety["id"])
    assert undone.code == 0, undone.text
    assert target.introspect() == live  # the row written after the backup is back


def test_restore_puts_back_only_the_listed_apps_rows(target: Target) -> None:
    before = target.introspect()["history_rows"]
    assert target.djreset("fake-zero", "--env", "keep", "--yes").code == 0  # backed up first
    target.sql("INSERT INTO django_migrations (app, name, applied) VALUES ('sessions', '0099_later', CURRENT_TIMESTAMP)")
    restored = target.djreset("restore", "--env", "keep", "--yes")
    assert restored.code == 0, restored.text
    after = target.introspect()["history_rows"]
    assert ["sessions", "0099_later"] in [row[1:3] for row in after], "restore deleted a row of an app it does not reset"
    assert [row for row in after if row[1:3] != ["sessions", "0099_later"]] == before


def test_links_in_a_migrations_folder_come_back_as_links(shop: Path, tmp_path: Path) -> None:
    outside = tmp_path / "shared-seed.json"
    outside.write_text("[]\n")
    (shop / "catalog" / "migrations" / "seed.json").symlink_to(outside)  # outside the project: never followed
    (shop / "orders" / "migrations" / "fixtures").mkdir()
    (shop / "orders" / "migrations" / "fixtures" / "seed.json").symlink_to("../../../catalog/migrations/seed.json")
    with_env(shop, "broken", "extends: keep\nsteps: [clean-files, makemigrations, rewrite-history, {run: 'exit 7'}]\n")
    before = state(Target("sqlite", shop))
    failed = run_djreset("reset", "--env", "broken", "--yes", cwd=shop)
    assert failed.code == 1 and "rolled back: put back" in failed.out, failed.text
    assert state(Target("sqlite", shop)) == before
    assert os.readlink(shop / "catalog" / "migrations" / "seed.json") == str(outside)
    assert os.readlink(shop / "orders" / "migrations" / "fixtures" / "seed.json") == "../../../catalog/migrations/seed.json"
    assert outside.read_text() == "[]\n"
    # The whole archive is read before anything is deleted: a damaged one changes nothing.
    assert run_djreset("clean-files", "--env", "keep", "--yes", cwd=shop).code == 0
    cleaned = tree_snapshot(shop)
    archive = shop / ".djreset" / "backups" / backups_of(shop)[-1]["id"] / "files.tar.gz"
    archive.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    refused = run_djreset("restore", "--env", "keep", "--yes", cwd=shop)
    assert refused.code == 1 and "cannot be read whole" in refused.err, refused.text
    assert {k: v for k, v in tree_snapshot(shop).items() if not k.startswith(".djreset")} == {
        k: v for k, v in cleaned.items() if not k.startswith(".djreset")}


def test_files_makemigrations_wrote_are_rolled_back(shop: Path) -> None:
    """An app without a migrations package: makemigrations makes one, a later step fails."""
    app = shop / "notes"
    app.mkdir()
    (app / "__init__.py").write_text("")
    (app / "models.py").write_text("from django.db import models\n\n\nclass Note(models.Model):\n    text = models.CharField(max_length=20)\n")
    settings = shop / "shop" / "settings.py"
    settings.write_text(settings.read_text() + "\nINSTALLED_APPS.append('notes')\n")
    subprocess.run([sys.executable, "manage.py", "migrate", "--run-syncdb", "-v0"], cwd=shop, env=clean_env(), check=True)
    config = shop / "reset.yaml"
    config.write_text(config.read_text().replace("apps: [accounts, catalog, orders]", "apps: [notes]"))
    with_env(shop, "broken", "extends: keep\nsteps: [clean-files, makemigrations, {run: 'exit 7'}]\n")
    before = tree_snapshot(shop)
    result = run_djreset("reset", "--env", "broken", "--yes", cwd=shop)
    assert result.code == 1, result.text
    assert "wrote 1 migration files" in result.out, result.out
    assert "rolled back: put back" in result.out and "the migration files" in result.out, result.out
    assert not (app / "migrations").exists()
    after = tree_snapshot(shop)
    assert {k: v for k, v in after.items() if not k.startswith((".djreset", "db.sqlite3"))} == {
        k: v for k, v in before.items() if not k.startswith((".djreset", "db.sqlite3"))}


def test_a_dead_run_is_unfinished_even_while_its_pid_lives_on(shop: Path) -> None:
    """A zombie, or a reused pid, is no proof of life: only the lock is."""
    zombie = subprocess.Popen([sys.executable, "-m", "djreset", "reset", "--env", "keep", "--yes"], cwd=shop,
                              env=clean_env(DJRESET_FAULT="inside:clean-files"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while Path(f"/proc/{zombie.pid}/stat").read_text().split(")")[-1].split()[0] != "Z":
            assert time.monotonic() < deadline, "the run was never killed"
            time.sleep(0.05)
        assert journal(shop)["status"] == "running"
        refused = run_djreset("reset", "--env", "keep", "--yes", cwd=shop)
        assert refused.code == 1 and "did not finish" in refused.err, refused.text
    finally:
        zombie.wait()
    data = journal(shop)
    data["pid"] = os.getpid()  # a pid that is alive, and is not djreset
    (shop / ".djreset" / "journal.json").write_text(json.dumps(data))
    refused = run_djreset("reset", "--env", "keep", "--yes", cwd=shop)
    assert refused.code == 1 and "did not finish" in refused.err, refused.text
    assert run_djreset("restore", "--env", "keep", "--yes", cwd=shop).code == 0


def test_backups_dumps_and_the_journal_are_private(target: Target) -> None:
    (target.project / ".djreset" / "backups").mkdir(parents=True, mode=0o755)  # as an older djreset left it
    (target.project / ".djreset").chmod(0o755)
    assert target.djreset("reset", "--env", "dev", "--yes").code == 0
    found = list((target.project / ".djreset").rglob("*"))
    assert any(path.name.startswith("database-default") for path in found)
    for path in [target.project / ".djreset", *found]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), f"{path}: {oct(mode)}"


def test_manage_and_run_are_destructive_unless_marked_harmless(shop: Path) -> None:
    with_env(shop, "wipe", "extends: keep\nsteps: [{manage: flush --noinput}]\n")
    before = Target("sqlite", shop).introspect()
    refused = run_djreset("reset", "--env", "wipe", cwd=shop)
    assert refused.code == 1 and "needs confirmation" in refused.err, refused.text
    assert Target("sqlite", shop).introspect() == before
    wiped = run_djreset("reset", "--env", "wipe", "--yes", cwd=shop)
    assert wiped.code == 0 and "database:default" in wiped.out, wiped.text  # backed up with a dump first
    assert run_djreset("restore", "--env", "wipe", "--yes", cwd=shop).code == 0
    assert Target("sqlite", shop).introspect() == before
    with_env(shop, "harmless", "extends: keep\nsteps:\n  - manage: check\n    destructive: false\n")
    harmless = run_djreset("reset", "--env", "harmless", cwd=shop)
    assert harmless.code == 0 and "backup" not in harmless.out, harmless.text


def test_verify_leaves_no_scratch_folder(shop: Path, tmp_path: Path) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    result = run_djreset("verify", "--env", "keep", cwd=shop, env=clean_env(TMPDIR=str(temp)))
    assert result.code == 0, result.text
    assert list(temp.iterdir()) == []


# -- the fault suite, continued: kills inside the dump clients, a full disk ------------------


KILLER = """\
#!{python}
import os, signal, subprocess, sys, time
real = {real!r}
argv = [real, *sys.argv[1:]]
if {marker!r} not in " ".join(sys.argv[1:]):
    os.execv(real, argv)
if {half!r}:  # a load: half the dump goes in, then djreset is killed
    lines = sys.stdin.buffer.read().splitlines(keepends=True)
    subprocess.run(argv, input=b"".join(lines[: len(lines) // 2]))
os.kill(os.getppid(), signal.SIGKILL)
time.sleep(20)
"""


def killer(program: str, marker: str, folder: Path) -> dict[str, str]:
    """PATH with a ``program`` that kills djreset (kill -9) while it runs, when its argv has ``marker``."""
    real = shutil.which(program)
    assert real, f"{program} is not installed"
    folder.mkdir(exist_ok=True)
    wrapper = folder / program
    wrapper.write_text(KILLER.format(python=sys.executable, real=real, marker=marker, half=program in ("mariadb", "mysql")))
    wrapper.chmod(0o755)
    return {"PATH": f"{folder}{os.pathsep}{os.environ['PATH']}"}


CLIENT_KILLS = [
    ("postgresql", "pg_dump", "", "reset"),
    ("postgresql", "pg_restore", "--exit-on-error", "restore"),
    ("postgresql", "pg_restore", "--exit-on-error", "rollback"),
    ("mysql", "mariadb-dump", "", "reset"),
    ("mysql", "mariadb", "", "restore"),
    ("mysql", "mariadb", "", "rollback"),
]


def _killed_run(target: Target, when: str, env: dict[str, str]) -> Result:
    """Run what ``when`` names with ``env`` (the killer on PATH); return the killed run."""
    if when == "restore":
        assert target.djreset("reset", "--env", "dev", "--yes").code == 0
        target.sql("INSERT INTO catalog_tag (name) VALUES ('after the reset')")
        return target.djreset("restore", "--env", "dev", "--yes", "--backup", backups_of(target.project)[0]["id"], env=env)
    return target.djreset("reset", "--env", "broken" if when == "rollback" else "dev", "--yes", env=env)


@pytest.mark.parametrize("engine,program,marker,when", CLIENT_KILLS, ids=[f"{e}-{p}-{w}" for e, p, _, w in CLIENT_KILLS])
def test_killed_inside_a_dump_client_restore_puts_everything_back(
    engine: str, program: str, marker: str, when: str, tmp_path: Path, request: pytest.FixtureRequest, record_property
) -> None:
    recovered = False
    temp = tmp_path / "tmp"
    temp.mkdir()
    with prepared(engine, EXAMPLE, "shop.settings", ("seed_demo",), tmp_path, request) as target:
        try:
            with_env(target.project, "broken", "extends: dev\nsteps: [clean-files, drop-db, create-db, makemigrations, migrate, {run: 'exit 7'}]\n")
            before = state(target)
            killed = _killed_run(target, when, target.env(TMPDIR=str(temp), **killer(program, marker, tmp_path / "bin")))
            assert killed.code == -signal.SIGKILL, killed.text
            assert any(path.name.startswith("djreset-") for path in temp.iterdir()), "the client's option file was not there"
            again = target.djreset("reset", "--env", "dev", "--yes", env=target.env(TMPDIR=str(temp)))
            assert again.code == 1 and "did not finish" in again.err, again.text
            assert not any(path.name.startswith("djreset-") for path in temp.iterdir()), "the next run left the option file"
            # The warning names the environment whose run did not finish: its backup is restored there.
            restored = target.djreset("restore", "--env", "broken" if when == "rollback" else "dev", "--yes")
            assert restored.code == 0, restored.text
            assert state(target) == before
            recovered = True
        finally:
            record_property("fault point", recovered)


@pytest.mark.parametrize("engine", ENGINES)
def test_killed_inside_a_restore_restore_puts_everything_back(engine: str, tmp_path: Path, request: pytest.FixtureRequest, record_property) -> None:
    recovered = False
    with prepared(engine, EXAMPLE, "shop.settings", ("seed_demo",), tmp_path, request) as target:
        try:
            before = state(target)
            assert target.djreset("reset", "--env", "dev", "--yes").code == 0
            first = backups_of(target.project)[0]["id"]
            killed = target.djreset("restore", "--env", "dev", "--yes", "--backup", first, env=target.env(DJRESET_FAULT="inside:put-back"))
            assert killed.code == -signal.SIGKILL, killed.text
            again = target.djreset("reset", "--env", "dev", "--yes")
            assert again.code == 1 and f"finish putting back backup {first}" in again.err, again.text
            assert target.djreset("restore", "--env", "dev", "--yes").code == 0
            assert state(target) == before
            recovered = True
        finally:
            record_property("fault point", recovered)


@contextmanager
def full_disk(folder: Path) -> Iterator[Callable[[], None] | None]:
    """``folder`` on a disk with 8 KB free (a tmpfs, as root), else a process limited
    to files of 8 KB (RLIMIT_FSIZE, given to the djreset it starts)."""
    folder.mkdir(parents=True)
    mounted = os.geteuid() == 0 and subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8k", "tmpfs", str(folder)], capture_output=True).returncode == 0
    try:
        yield None if mounted else (lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (8192, 8192)))
    finally:
        if mounted:
            subprocess.run(["umount", str(folder)], check=True)


def test_a_full_disk_while_the_backup_is_written_changes_nothing(target: Target, record_property) -> None:
    recovered = False
    try:
        before = state(target)
        with full_disk(target.project / ".djreset" / "backups") as limit:
            proc = subprocess.run([sys.executable, "-m", "djreset", "reset", "--env", "dev", "--yes"], cwd=target.project, env=target.env(),
                                  capture_output=True, text=True, timeout=300, preexec_fn=limit)
            assert proc.returncode == 1, proc.stdout + proc.stderr
            assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr, proc.stderr
            assert not any((folder / "manifest.json").exists() for folder in (target.project / ".djreset" / "backups").iterdir())
        assert state(target) == before
        assert journal(target.project)["status"] == "nothing changed"
        assert target.djreset("reset", "--env", "dev", "--yes").code == 0  # nothing left unfinished
        recovered = True
    finally:
        record_property("fault point", recovered)


def test_a_rollback_without_a_dump_says_what_it_could_not_put_back(shop: Path) -> None:
    config = shop / "reset.yaml"
    config.write_text("backups: {dump_database: false}\n" + config.read_text())
    with_env(shop, "broken", "extends: dev\nsteps: [clean-files, drop-db, create-db, makemigrations, migrate, {run: 'exit 7'}]\n")
    result = run_djreset("reset", "--env", "broken", "--yes", cwd=shop)
    assert result.code == 1, result.text
    assert "database default was changed by the run and cannot be put back" in result.out, result.out
    assert "the django_migrations rows of" in result.out and "the migration files" in result.out and "as before the run" not in result.out, result.out
    assert journal(shop)["status"] == "rolled back"  # nothing more to put back: later runs are not blocked


def test_restore_refuses_a_backup_of_another_environment(shop: Path) -> None:
    """A dev backup is never loaded into prod: one line naming both, exit 2, nothing touched."""
    shutil.copy(shop / "db.sqlite3", shop / "prod.sqlite3")
    with_env(shop, "prod", "extends: dev\ndatabase: {engine: sqlite, name: prod.sqlite3}\n")
    assert run_djreset("backup", "--env", "dev", "--database", cwd=shop).code == 0
    dev_backup = backups_of(shop)[-1]["id"]
    before = tree_snapshot(shop)
    refused = run_djreset("restore", "--env", "prod", "--yes", "--backup", dev_backup, cwd=shop)
    assert refused.code == 2, refused.text
    assert len(refused.err.strip().splitlines()) == 1, refused.err
    assert f"backup {dev_backup} is a backup of environment 'dev', not of 'prod'" in refused.err, refused.err
    assert tree_snapshot(shop) == before


def _has_tag(shop: Path, name: str) -> bool:
    return any(name in row for row in Target("sqlite", shop).introspect()["rows"]["catalog_tag"])


def test_a_backup_step_without_a_dump_does_not_stand_in_for_the_dump_a_drop_needs(shop: Path) -> None:
    """Review finding 1: `backup` first turned the automatic dump off, then drop-db ran without one."""
    Target("sqlite", shop).sql("INSERT INTO catalog_tag (name) VALUES ('precious')")
    with_env(shop, "broken", "extends: dev\nsteps: [backup, clean-files, drop-db, create-db, makemigrations, migrate, {run: 'exit 7'}]\n")
    result = run_djreset("reset", "--env", "broken", "--yes", cwd=shop)
    assert result.code == 1, result.text
    assert "rolled back: put back database default from its dump" in result.out, result.out
    assert _has_tag(shop, "precious")
    # Backups off, the recipe's own backup holds no dump: the rollback names the real reason.
    config = shop / "reset.yaml"
    config.write_text("backups: {enabled: false}\n" + config.read_text())
    result = run_djreset("reset", "--env", "broken", "--yes", cwd=shop)
    assert result.code == 1, result.text
    assert "it was made by a backup step without database: true" in result.out and "dump_database" not in result.out, result.out


def test_a_rollback_without_a_dump_puts_the_history_rows_back(shop: Path) -> None:
    """Review finding 2: with dump_database false the saved django_migrations rows were skipped."""
    config = shop / "reset.yaml"
    config.write_text("backups: {dump_database: false}\n" + config.read_text())
    with_env(shop, "broken", "extends: keep\nsteps: [fake-zero, clean-files, makemigrations, migrate-fake-initial, {run: 'exit 7'}]\n")
    before = Target("sqlite", shop).introspect()
    result = run_djreset("reset", "--env", "broken", "--yes", cwd=shop)
    assert result.code == 1, result.text
    assert "the django_migrations rows of accounts, catalog, orders on default" in result.out, result.out
    assert Target("sqlite", shop).introspect()["history_rows"] == before["history_rows"]


def test_a_run_killed_with_backups_off_is_not_called_harmless_and_is_forgotten_only_on_request(shop: Path) -> None:
    """Review finding 8: it said "stopped before its first destructive step", and restore cleared it."""
    config = shop / "reset.yaml"
    config.write_text("backups: {enabled: false}\n" + config.read_text())
    killed = run_djreset("reset", "--env", "keep", "--yes", cwd=shop, env=clean_env(DJRESET_FAULT="inside:clean-files"))
    assert killed.code == -signal.SIGKILL, killed.text
    for args in (("reset", "--env", "keep", "--yes"), ("restore", "--env", "keep", "--yes")):
        refused = run_djreset(*args, cwd=shop)
        assert refused.code == 1, refused.text
        assert "cannot put it back" in refused.err and "restore --env keep --forget" in refused.err, refused.err
        assert "before its first destructive step" not in refused.text and "nothing to put back" not in refused.text
    forgot = run_djreset("restore", "--env", "keep", "--yes", "--forget", cwd=shop)
    assert forgot.code == 0 and "nothing was put back or checked" in forgot.out, forgot.text
    assert journal(shop)["status"] == "done"


def test_a_recipe_without_a_destructive_step_is_rolled_back_too(shop: Path) -> None:
    """Review finding 11: [makemigrations, migrate] failing in migrate left the new migration behind."""
    models = shop / "catalog" / "models.py"
    models.write_text(models.read_text().replace(
        'name = models.CharField(max_length=100)\n', 'name = models.CharField(max_length=100)\n    code = models.CharField(max_length=10, default="x", unique=True)\n', 1))
    with_env(shop, "grow", "extends: keep\nsteps: [makemigrations, migrate]\n")
    before_files, before = tree_snapshot(shop), Target("sqlite", shop).introspect()
    result = run_djreset("reset", "--env", "grow", cwd=shop)  # not destructive: no confirmation asked
    assert result.code == 1 and "UNIQUE constraint failed" in result.text, result.text
    assert "rolled back: put back" in result.out and "the migration files" in result.out, result.out
    assert {k: v for k, v in tree_snapshot(shop).items() if not k.startswith((".djreset", "db.sqlite3"))} == {
        k: v for k, v in before_files.items() if not k.startswith((".djreset", "db.sqlite3"))}
    assert Target("sqlite", shop).introspect() == before


def test_sigterm_during_a_run_step_stops_it_and_rolls_back(shop: Path) -> None:
    """Review finding 10: invoke swallowed the interrupt, the command ran on and the reset ended "ok"."""
    with_env(shop, "slow", "extends: keep\nsteps: [clean-files, makemigrations, {run: 'echo $$ > child.pid; exec sleep 60'}]\n")
    before = {k: v for k, v in tree_snapshot(shop).items() if k.endswith(".py")}
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "djreset", "reset", "--env", "slow", "--yes"], cwd=shop, env=clean_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        while not (shop / "child.pid").is_file() or not (shop / "child.pid").read_text().strip():
            assert proc.poll() is None and time.monotonic() - started < 120, "the run step never started"
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=50)
    finally:
        proc.kill()
    assert proc.returncode == 143, out
    assert "rolling back (interrupted)" in out and "the migration files" in out, out
    assert not Path(f"/proc/{(shop / 'child.pid').read_text().strip()}").exists(), "the command was left running"
    assert {k: v for k, v in tree_snapshot(shop).items() if k.endswith(".py")} == before
