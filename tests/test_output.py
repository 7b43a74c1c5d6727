"""What djreset prints: --json for CI, Django's colours and progress on a terminal only."""
from __future__ import annotations

import io
import json
import os
import pty
import re
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

from conftest import Target, clean_env, run_djreset, tree_snapshot

STEP_KEYS = {"name", "status", "seconds", "number", "automatic", "actions", "messages", "warnings", "found"}


def as_json(project: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, dict, str]:
    """Run djreset with --json: stdout must be exactly one JSON document."""
    result = run_djreset(*args, "--json", cwd=project, env=env)
    return result.code, json.loads(result.out), result.err


def test_json_plan_lists_each_step_with_what_it_would_do(shop: Path) -> None:
    before = tree_snapshot(shop)
    code, report, err = as_json(shop, "plan", "--env", "keep")
    assert code == 0 and report["ok"] is True and report["exit_code"] == 0 and report["error"] is None
    assert (report["task"], report["environment"], report["dry_run"]) == ("plan", "keep", True)
    assert report["project"]["apps"] == ["accounts", "catalog", "orders"]
    steps = report["steps"]
    assert [step["name"] for step in steps] == ["check", "verify", "clean-files", "makemigrations", "record-new", "verify"]
    for step in steps:
        assert STEP_KEYS <= set(step) and step["status"] == "ok" and step["seconds"] >= 0
    found = {step["name"]: step["found"] for step in steps}
    assert len(found["clean-files"]["files"]) == 14
    assert found["check"]["problems"] == []
    assert found["check"]["data_migrations"][0]["operation"] == "catalog.0003_seed_categories:1"
    assert found["check"]["data_migrations"][0]["decision"] == "keep"
    assert found["verify"]["differences"] == []
    writes = steps[3]["actions"]
    assert any(re.fullmatch(r"write accounts/migrations/0001_reset_\d{8}\.py \(2 operations\)", action) for action in writes)
    assert any("in one transaction, record accounts.0001_reset_" in action for action in steps[4]["actions"])
    # The text went to stderr, untouched by the JSON.
    assert "summary (dry run: nothing was changed)" in err
    assert tree_snapshot(shop) == before


@pytest.mark.parametrize("task", ["check", "verify", "measure"])
def test_json_check_verify_measure(shop: Path, task: str) -> None:
    code, report, _ = as_json(shop, task, "--env", "keep")
    assert code == 0, report
    (step,) = report["steps"]
    assert step["name"] == task and step["status"] == "ok" and STEP_KEYS <= set(step)
    if task == "verify":
        assert step["found"]["differences"] == [] and step["found"]["history_problems"] == []
        assert step["found"]["model_changes"] == []
    if task == "measure":
        numbers = step["found"]["measurements"]["now"]
        assert numbers["apps"]["catalog"] == {"files": 5, "operations": 8}
        assert numbers["migrate_seconds"] > 0


LOUD = """\
import os

from django.db import migrations


def loud(apps, schema_editor):
    print("a print in a data migration")
    os.system("echo a child process of a data migration")


class Migration(migrations.Migration):
    dependencies = [("catalog", "0005_rename_price")]
    operations = [migrations.RunPython(loud, migrations.RunPython.noop)]
"""


def test_json_stdout_is_the_document_alone_when_project_code_prints(shop: Path) -> None:
    """Settings, a kept data migration and its child process print to stdout:
    all of it goes to stderr, the document alone is on stdout (finding 7)."""
    with (shop / "shop" / "settings.py").open("a") as settings:
        settings.write('\nprint("a print in settings")\n')
    (shop / "catalog" / "migrations" / "0006_loud.py").write_text(LOUD)
    config = shop / "reset.yaml"
    config.write_text(config.read_text().replace("keep: [catalog.0003_seed_categories]", "keep: [catalog.0003_seed_categories, catalog.0006_loud]"))
    subprocess.run([sys.executable, "manage.py", "migrate", "--fake", "catalog", "-v0"], cwd=shop, env=clean_env(), check=True, capture_output=True)

    code, report, err = as_json(shop, "verify", "--env", "keep")
    assert code == 0, report
    for line in ("a print in settings", "a print in a data migration", "a child process of a data migration"):
        assert line in err


def test_json_keeps_the_exit_codes_of_a_failure_and_of_bad_input(shop: Path) -> None:
    with closing(sqlite3.connect(shop / "db.sqlite3")) as db:
        db.execute("ALTER TABLE catalog_product ADD COLUMN by_hand integer")
        db.commit()
    code, report, err = as_json(shop, "verify", "--env", "keep")
    assert code == 1 and report["ok"] is False and report["exit_code"] == 1
    assert report["error"].startswith("verify: 1 difference(s)")
    (step,) = report["steps"]
    assert step["status"] == "failed"
    assert [d["database"] for d in step["found"]["differences"]] == ["default"]
    assert "by_hand" in step["found"]["differences"][0]["difference"]
    assert err.strip().endswith(f"djreset: {report['error']}")

    code, report, err = as_json(shop, "plan", "--env", "nope")
    assert code == 2 and report["exit_code"] == 2 and report["ok"] is False
    assert "'nope'" in report["error"] and err.strip() == f"djreset: {report['error']}"
    # A flag djreset does not know is bad input too: one line, 2.
    unknown = run_djreset("plan", "--env", "keep", "--bogus", cwd=shop)
    assert (unknown.code, unknown.out, unknown.err) == (2, "", "djreset: No idea what '--bogus' is!\n")


def test_json_backups(shop: Path) -> None:
    code, report, _ = as_json(shop, "backups")
    assert code == 0 and report["backups"] == []
    made = run_djreset("backup", "--env", "keep", "--yes", cwd=shop)
    assert made.code == 0, made.text
    code, report, _ = as_json(shop, "backups")
    (backup,) = report["backups"]
    assert backup["env"] == "keep" and backup["reason"] == "backup step"
    with closing(sqlite3.connect(shop / "db.sqlite3")) as db:
        assert backup["history"] == {"default": db.execute("SELECT COUNT(*) FROM django_migrations").fetchone()[0]}
    assert (shop / ".djreset" / "backups" / backup["id"] / "manifest.json").is_file()


def test_json_on_a_server_database_never_shows_a_password(server_target: Target) -> None:
    result = server_target.djreset("plan", "--env", "keep", "--json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert report["databases"]["default"].startswith(server_target.engine)
    for _user, password in server_target.server.users.values():
        assert password not in result.out and password not in result.err


# -- colour and progress ------------------------------------------------------------

SUCCESS = "\x1b[32;1m"  # Django's default palette: SUCCESS is green, bold


def on_a_terminal(project: Path, *args: str, **extra: str) -> str:
    """Run djreset with a pseudo-terminal as stdout and stderr, and read what it showed."""
    main, secondary = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "djreset", *args], cwd=project, env=clean_env(**extra),
                            stdin=subprocess.DEVNULL, stdout=secondary, stderr=secondary)
    os.close(secondary)
    shown = b""
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # the other side closed
            break
        if not chunk:
            break
        shown += chunk
    os.close(main)
    assert proc.wait(timeout=120) == 0, shown.decode(errors="replace")
    return shown.decode()


def test_status_words_are_coloured_on_a_terminal_only(shop: Path) -> None:
    shown = on_a_terminal(shop, "check", "--env", "keep")
    assert f"    {SUCCESS}check: ok" in shown  # the step's verdict
    assert f"check  {SUCCESS}ok\x1b[0m" in shown  # the summary's status word
    assert "\x1b[36;1m==> [1/1] check" in shown  # the step header, as migrate's headings
    piped = run_djreset("check", "--env", "keep", cwd=shop)
    assert piped.code == 0 and "\x1b" not in piped.text
    # Each switch turns it off on the same terminal: no escape sequence at all.
    for flags, switch in (((), {"NO_COLOR": "1"}), ((), {"DJANGO_COLORS": "nocolor"}), (("--no-color",), {})):
        shown = on_a_terminal(shop, "check", "--env", "keep", *flags, **switch)
        assert "summary" in shown and "\x1b" not in shown, (flags, switch)


def test_progress_on_a_terminal_and_nothing_in_logs(shop: Path) -> None:
    shown = on_a_terminal(shop, "measure", "--env", "keep", NO_COLOR="1")
    # Counted on the phase's own line: migrations applied of those planned.
    assert "\r    migrating an empty scratch database... 32/32\r\n" in shown
    piped = run_djreset("measure", "--env", "keep", cwd=shop)
    assert piped.code == 0 and "    migrating an empty scratch database...\n" in piped.out
    assert "\r" not in piped.text and "/32" not in piped.text


# -- the pieces, in process -------------------------------------------------------------


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_wanted_follows_the_switches(monkeypatch: pytest.MonkeyPatch) -> None:
    from djreset import ui

    monkeypatch.delenv("NO_COLOR", raising=False)
    assert ui.colour_wanted(Terminal()) and not ui.colour_wanted(io.StringIO())
    assert ui.colour_wanted(io.StringIO(), force_color=True)
    assert not ui.colour_wanted(Terminal(), no_color=True)
    monkeypatch.setenv("NO_COLOR", "1")
    assert not ui.colour_wanted(Terminal())
    monkeypatch.setenv("NO_COLOR", "")  # no-color.org: an empty value does not count
    assert ui.colour_wanted(Terminal())


def test_progress_counts_on_its_line_and_logs_get_the_line_only() -> None:
    from djreset import ui

    screen, log, quiet = Terminal(), io.StringIO(), io.StringIO()
    for stream in (screen, log):
        out = ui.Output(stream)
        with out.progress("build", total=3) as bar:
            for _ in range(3):
                bar.advance()
        out.write("after")
    assert screen.getvalue().startswith("    build...") and screen.getvalue().endswith("\r    build... 3/3\nafter\n")
    assert log.getvalue() == "    build...\nafter\n"
    with ui.Output(quiet).progress("dump", log=False):
        pass
    assert quiet.getvalue() == ""


def test_report_records_each_step_apart() -> None:
    from djreset import ui

    out = ui.Output(io.StringIO())
    out.info("before any step")
    first = out.begin_step("[1/2] one")
    out.action("delete a.py")
    out.found("files", ["a.py"])
    out.found("files", ["b.py"])
    out.report.end_step()
    out.warn("between steps")
    assert first["actions"] == ["delete a.py"] and first["found"] == {"files": ["a.py", "b.py"]}
    document = out.report.document("9", 1, "boom")
    assert document["ok"] is False and document["messages"] == ["before any step"] and document["warnings"] == ["between steps"]
