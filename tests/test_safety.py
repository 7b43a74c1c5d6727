"""Nothing is lost: fault injection, rollback, the journal, the lock, protected environments, secrets."""
from __future__ import annotations

import os
import pty
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import Target, clean_env, run_djreset, tree_snapshot

CASE1 = ("dev", ("clean-files", "drop-db", "create-db", "makemigrations", "migrate"), ("inside:clean-files", "inside:drop-db"))
CASE2 = (
    "keep",
    ("check", "verify", "clean-files", "makemigrations", "rewrite-history", "verify"),
    ("inside:clean-files", "inside:rewrite-history"),
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


@pytest.mark.parametrize("env,point", [("dev", "term:after:3"), ("keep", "term:inside:rewrite-history"), ("keep", "term:after:4")])
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
    config.write_text(config.read_text() + "  broken:\n    extends: keep\n    steps: [clean-files, makemigrations, rewrite-history, {run: 'exit 7'}]\n")
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
