"""Time a reset three ways on the same synthetic project, and compare.

    python bench/run.py                      # 5×20, 20×50 and 40×100, 3 runs each
    python bench/run.py --sizes 5x20 --runs 1
    python bench/run.py --smoke              # CI: the smallest size once; no timing claims

For each size, on fresh copies of one generated and migrated project:

  hand      the blog recipe exactly: `manage.py migrate --fake APP zero` per app,
            the two `find ... -delete`, `makemigrations`, `migrate --fake-initial`
  djreset   `djreset reset` with the keep recipe, verification on (check, verify,
            clean-files, makemigrations, rewrite-history, verify)
  noverify  the same recipe without the two verify steps
  lower     one process doing only the irreducible work (bench/lower_bound.py)

Medians of the runs, the ratios djreset/hand, djreset/lower and noverify/lower,
a CSV and (with matplotlib: pip install -e '.[bench]') a plot.  These are
measurements, not tests: nothing here asserts a time.
"""
from __future__ import annotations

import argparse
import csv
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from generate import app_name, generate  # noqa: E402

VARIANTS = ("hand", "djreset", "noverify", "lower")
DEFAULT_SIZES = ((5, 20), (20, 50), (40, 100))


def _run(argv: list[str], cwd: Path) -> None:
    result = subprocess.run(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if result.returncode != 0:
        raise SystemExit(f"bench: {' '.join(argv)} failed in {cwd}:\n{result.stderr[-2000:]}")


def hand_recipe(project: Path, apps: list[str]) -> None:
    for app in apps:
        _run([sys.executable, "manage.py", "migrate", "--fake", app, "zero"], project)
    _run(["find", ".", "-path", "*/migrations/*.py", "-not", "-name", "__init__.py", "-delete"], project)
    _run(["find", ".", "-path", "*/migrations/*.pyc", "-delete"], project)
    _run([sys.executable, "manage.py", "makemigrations"], project)
    _run([sys.executable, "manage.py", "migrate", "--fake-initial"], project)


def djreset(env: str):  # noqa: ANN201
    def run(project: Path, apps: list[str]) -> None:
        _run([sys.executable, "-m", "djreset", "reset", "--env", env, "--yes"], project)

    return run


def lower_bound(project: Path, apps: list[str]) -> None:
    _run([sys.executable, str(HERE / "lower_bound.py"), "benchproject.settings", *apps], project)


RUNNERS = {"hand": hand_recipe, "djreset": djreset("keep"), "noverify": djreset("keep-noverify"), "lower": lower_bound}


def check_result(project: Path) -> None:
    """Every variant must leave a project Django agrees with."""
    _run([sys.executable, "manage.py", "migrate", "--check"], project)
    _run([sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"], project)


def measure(apps: int, migrations: int, runs: int, work: Path) -> dict[str, list[float]]:
    template = generate(work / f"template-{apps}x{migrations}", apps, migrations)
    _run([sys.executable, "manage.py", "migrate", "-v0"], template)
    labels = [app_name(i) for i in range(apps)]
    times: dict[str, list[float]] = {variant: [] for variant in VARIANTS}
    for number in range(runs):
        for variant in VARIANTS:  # interleaved, so drift hits every variant alike
            project = work / f"{variant}-{apps}x{migrations}-{number}"
            shutil.copytree(template, project)
            begin = time.perf_counter()
            RUNNERS[variant](project, labels)
            times[variant].append(time.perf_counter() - begin)
            check_result(project)
            shutil.rmtree(project)
        print(f"  {apps}×{migrations} run {number + 1}: " + ", ".join(f"{v} {times[v][-1]:.2f}s" for v in VARIANTS), flush=True)
    shutil.rmtree(template)
    return times


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


def report(rows: list[dict], out: Path) -> None:
    header = ["apps", "migrations", "total", *[f"{v}_s" for v in VARIANTS], "djreset/hand", "djreset/lower", "noverify/lower"]
    print("\n" + " | ".join(header))
    for row in rows:
        print(" | ".join(f"{row[h]:.3f}" if isinstance(row[h], float) else str(row[h]) for h in header))
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "results.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    print(f"\nwrote {out / 'results.csv'}")
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("no plot: matplotlib is not installed (pip install -e '.[bench]')")
        return
    figure, axes = plt.subplots(figsize=(7, 4.5))
    totals = [row["total"] for row in rows]
    for variant, label in (("hand", "hand recipe"), ("djreset", "djreset (verify on)"), ("noverify", "djreset (verify off)"), ("lower", "lower bound")):
        axes.plot(totals, [row[f"{variant}_s"] for row in rows], marker="o", label=label)
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
    parser.add_argument("--smoke", action="store_true", help="the smallest size, once (CI)")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    parser.add_argument("--replot", action="store_true", help="redraw the table and plot from OUT/results.csv")
    args = parser.parse_args()
    if args.replot:
        with open(args.out / "results.csv") as handle:
            rows = [{k: (float(v) if "." in v else int(v)) for k, v in row.items()} for row in csv.DictReader(handle)]
        report(rows, args.out)
        return
    sizes = [tuple(int(n) for n in size.split("x")) for size in args.sizes] if args.sizes else list(DEFAULT_SIZES)
    runs = args.runs
    if args.smoke:
        sizes, runs, args.out = [DEFAULT_SIZES[0]], 1, Path(tempfile.mkdtemp(prefix="djreset-bench-"))
    print(f"machine: {machine()}")
    rows = []
    with tempfile.TemporaryDirectory(prefix="djreset-bench-") as work:
        for apps, migrations in sizes:
            times = measure(apps, migrations, runs, Path(work))
            median = {variant: statistics.median(values) for variant, values in times.items()}
            rows.append({
                "apps": apps, "migrations": migrations, "total": apps * migrations,
                **{f"{v}_s": median[v] for v in VARIANTS},
                "djreset/hand": median["djreset"] / median["hand"],
                "djreset/lower": median["djreset"] / median["lower"],
                "noverify/lower": median["noverify"] / median["lower"],
            })
    report(rows, args.out)


if __name__ == "__main__":
    main()
