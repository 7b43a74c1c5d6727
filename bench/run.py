"""Time a reset three ways on the same synthetic project, and compare.

    python bench/run.py                      # 5×20, 20×50 and 40×100, 3 runs each
    python bench/run.py --sizes 5x20 --runs 1
    python bench/run.py --smoke              # CI: the smallest size once; no timing claims
    python bench/run.py --sizes 12x40 --variants djreset remake lower
    python bench/run.py --large              # ~250 tables on PostgreSQL (scripts/dev-servers start)

For each size, on fresh copies of one generated and migrated project:

  hand      the blog recipe exactly: `manage.py migrate --fake APP zero` per app,
            the two `find ... -delete`, `makemigrations`, `migrate --fake-initial`
  djreset   `djreset reset` with the keep recipe, verification on (check, verify,
            clean-files, makemigrations, record-new, verify)
  noverify  the same recipe without the two verify steps
  lower     one process doing only the irreducible work (bench/lower_bound.py)
  remake    django-remake-migrations 3.1 (pip install -e '.[bench]'): its
            `remakemigrations`, then the `migrate` that records the result.  It
            verifies nothing and keeps no data migration.

Medians of the runs, the ratios djreset/hand, djreset/lower and noverify/lower,
a CSV and (with matplotlib: pip install -e '.[bench]') a plot.  These are
measurements, not tests: nothing here asserts a time.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Iterator

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from generate import app_name, generate  # noqa: E402

VARIANTS = ("hand", "djreset", "noverify", "lower", "remake")
DEFAULT_SIZES = ((5, 20), (12, 40), (20, 50), (40, 100))
LARGE = (10, 10, 25)  # apps, migrations, models per app: 250 tables, PostgreSQL


ENV: dict[str, str] | None = None  # the server database for --large (BENCH_DATABASE), else None


def _run(argv: list[str], cwd: Path) -> None:
    result = subprocess.run(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=ENV)
    if result.returncode != 0:
        raise SystemExit(f"bench: {' '.join(argv)} failed in {cwd}:\n{result.stderr[-2000:]}")


def hand_recipe(project: Path, apps: list[str]) -> None:
    for app in apps:
        _run([sys.executable, "manage.py", "migrate", "--fake", app, "zero"], project)
    _run(["find", ".", "-path", "*/migrations/*.py", "-not", "-name", "__init__.py", "-delete"], project)
    _run(["find", ".", "-path", "*/migrations/*.pyc", "-delete"], project)
    _run([sys.executable, "manage.py", "makemigrations"], project)
    _run([sys.executable, "manage.py", "migrate", "--fake-initial"], project)


def djreset(env: str):
    def run(project: Path, apps: list[str]) -> None:
        _run([sys.executable, "-m", "djreset", "reset", "--env", env, "--yes"], project)

    return run


def lower_bound(project: Path, apps: list[str]) -> None:
    _run([sys.executable, str(HERE / "lower_bound.py"), "benchproject.settings", *apps], project)


def remake(project: Path, apps: list[str]) -> None:
    _run([sys.executable, "manage.py", "remakemigrations"], project)
    _run([sys.executable, "manage.py", "migrate"], project)


def prepare_remake(project: Path) -> None:
    """Untimed: django-remake-migrations must be an installed app."""
    settings = project / "benchproject" / "settings.py"
    settings.write_text(settings.read_text() + 'INSTALLED_APPS.append("django_remake_migrations")\n')


RUNNERS = {"hand": hand_recipe, "djreset": djreset("keep"), "noverify": djreset("keep-noverify"), "lower": lower_bound, "remake": remake}


def check_result(project: Path) -> None:
    """Every variant must leave a project Django agrees with."""
    _run([sys.executable, "manage.py", "migrate", "--check"], project)
    _run([sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"], project)


def measure(apps: int, migrations: int, runs: int, work: Path, variants: list[str], models: int = 1, server: "Server | None" = None) -> dict[str, list[float]]:
    """Median-ready times of each variant on fresh copies of one generated, migrated project."""
    template = generate(work / f"template-{apps}x{migrations}", apps, migrations, models, env=ENV)
    if server:
        server.use(template)
    _run([sys.executable, "manage.py", "migrate", "-v0"], template)
    labels = [app_name(i) for i in range(apps)]
    times: dict[str, list[float]] = {variant: [] for variant in variants}
    for number in range(runs):
        for variant in variants:  # interleaved, so drift hits every variant alike
            project = work / f"{variant}-{apps}x{migrations}-{number}"
            shutil.copytree(template, project)
            if variant == "remake":
                prepare_remake(project)
            with server.copy() if server else nullcontext():
                begin = time.perf_counter()
                RUNNERS[variant](project, labels)
                times[variant].append(time.perf_counter() - begin)
                check_result(project)
            shutil.rmtree(project)
        print(f"  {apps}×{migrations}×{models} run {number + 1}: " + ", ".join(f"{v} {times[v][-1]:.2f}s" for v in variants), flush=True)
    shutil.rmtree(template)
    return times


class Server:
    """--large: the template and each copy are PostgreSQL databases on the test server
    (.work/servers/servers.env, from scripts/dev-servers start); a copy is CREATE DATABASE ... TEMPLATE."""

    def __init__(self) -> None:
        values = dict(line.split("=", 1) for line in (HERE.parent / ".work" / "servers" / "servers.env").read_text().splitlines() if "=" in line)
        self.connection = {key: values[f"DJRESET_TEST_PG_{key.upper()}"] for key in ("host", "port", "admin")}
        self.password = values["DJRESET_TEST_PG_ADMIN_PASSWORD"]
        self.template = f"bench_{int(time.time())}"

    def _admin(self, statement: str, *names: str) -> None:
        import psycopg
        from psycopg import sql

        with psycopg.connect(host=self.connection["host"], port=self.connection["port"], user=self.connection["admin"],
                             password=self.password, dbname="postgres", autocommit=True) as db:
            db.execute(sql.SQL(statement).format(*map(sql.Identifier, names)))

    def _point_at(self, name: str) -> None:
        global ENV
        entry = {"ENGINE": "django.db.backends.postgresql", "NAME": name, "USER": self.connection["admin"], "PASSWORD": self.password,
                 "HOST": self.connection["host"], "PORT": self.connection["port"]}
        ENV = {**os.environ, "BENCH_DATABASE": json.dumps(entry)}

    def use(self, project: Path) -> None:
        """The template project's database; reset.yaml then uses the settings' DATABASES."""
        self._admin("CREATE DATABASE {}", self.template)
        self._point_at(self.template)
        config = project / "reset.yaml"
        config.write_text("\n".join(line for line in config.read_text().splitlines() if "database:" not in line) + "\n")

    @contextmanager
    def copy(self) -> Iterator[None]:
        name = f"{self.template}_{secrets.token_hex(3)}"
        self._admin("CREATE DATABASE {} TEMPLATE {}", name, self.template)
        self._point_at(name)
        try:
            yield
        finally:
            self._point_at(self.template)
            self._admin("DROP DATABASE IF EXISTS {} WITH (FORCE)", name)

    def close(self) -> None:
        self._admin("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.template)


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import os

    import django

    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, Django {django.__version__}, SQLite {__import__('sqlite3').sqlite_version}"


RATIOS = (("djreset", "hand"), ("djreset", "remake"), ("djreset", "lower"), ("noverify", "lower"))
HEADER = ["engine", "apps", "migrations", "models", "tables", "total", *[f"{v}_s" for v in VARIANTS], *[f"{a}/{b}" for a, b in RATIOS]]


def row_for(engine: str, apps: int, migrations: int, models: int, times: dict[str, list[float]]) -> dict:
    median = {variant: statistics.median(values) for variant, values in times.items()}
    row: dict = {"engine": engine, "apps": apps, "migrations": migrations, "models": models, "tables": apps * models, "total": apps * migrations}
    row.update({f"{v}_s": median.get(v, "") for v in VARIANTS})
    row.update({f"{a}/{b}": median[a] / median[b] if a in median and b in median else "" for a, b in RATIOS})
    return row


def report(rows: list[dict], out: Path) -> None:
    print("\n" + " | ".join(HEADER))
    for row in rows:
        print(" | ".join(f"{row[h]:.3f}" if isinstance(row[h], float) else str(row[h]) for h in HEADER))
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "results.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=HEADER)
        writer.writeheader()
        writer.writerows(rows)
    print(f"\nwrote {out / 'results.csv'}")
    plot([row for row in rows if row["engine"] == "sqlite"], out)


def plot(rows: list[dict], out: Path) -> None:
    if not rows:
        return
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("no plot: matplotlib is not installed (pip install -e '.[bench]')")
        return
    figure, axes = plt.subplots(figsize=(7, 4.5))
    labels = (("hand", "hand recipe"), ("djreset", "djreset (verify on)"), ("noverify", "djreset (verify off)"),
              ("remake", "django-remake-migrations"), ("lower", "lower bound"))
    for variant, label in labels:
        points = [(row["total"], row[f"{variant}_s"]) for row in rows if row[f"{variant}_s"] != ""]
        if points:
            axes.plot(*zip(*points, strict=True), marker="o", label=label)
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("total migrations (apps × migrations per app), log scale")
    axes.set_ylabel("seconds (median), log scale")
    axes.set_title("Resetting migrations, SQLite")
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(out / "bench.png", dpi=110)
    print(f"wrote {out / 'bench.png'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="*", help="APPSxMIGRATIONS, e.g. 5x20 20x50")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--variants", nargs="*", choices=VARIANTS, default=list(VARIANTS))
    parser.add_argument("--smoke", action="store_true", help="the smallest size, once (CI)")
    parser.add_argument("--large", action="store_true", help="~250 tables with indexes and constraints, on PostgreSQL")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    parser.add_argument("--replot", action="store_true", help="redraw the table and plot from OUT/results.csv")
    args = parser.parse_args()
    if args.replot:
        with open(args.out / "results.csv") as handle:
            rows = [{k: (float(v) if "." in v else int(v) if v.isdigit() else v) for k, v in row.items()} for row in csv.DictReader(handle)]
        report(rows, args.out)
        return
    sizes = [(*(int(n) for n in size.split("x")), 1) for size in args.sizes] if args.sizes else [(*size, 1) for size in DEFAULT_SIZES]
    variants, runs = list(args.variants), args.runs
    if args.smoke:  # the smallest size once, every variant but the slow hand recipe
        sizes, runs, args.out = [(*DEFAULT_SIZES[0], 1)], 1, Path(tempfile.mkdtemp(prefix="djreset-bench-"))
        variants = [v for v in variants if v != "hand" and (v != "remake" or _has_remake())]
    server = Server() if args.large else None
    if args.large:
        sizes = [LARGE] if not args.sizes else sizes
    print(f"machine: {machine()}")
    rows = []
    try:
        with tempfile.TemporaryDirectory(prefix="djreset-bench-") as work:
            for apps, migrations, models in sizes:
                times = measure(apps, migrations, runs, Path(work), variants, models, server)
                rows.append(row_for("postgresql" if server else "sqlite", apps, migrations, models, times))
    finally:
        if server:
            server.close()
    report(rows, args.out)


def _has_remake() -> bool:
    import importlib.util

    return importlib.util.find_spec("django_remake_migrations") is not None


if __name__ == "__main__":
    main()
