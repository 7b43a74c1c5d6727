"""Tasks for working on djreset itself: the demo and the tests."""
import sys

from invoke import task


@task
def demo(c):
    """Reset a copy of examples/shop (SQLite) in .work/demo: Case 2, then Case 1."""
    c.run(f"{sys.executable} scripts/demo.py", pty=False)


@task
def test(c):
    """Run the test suite."""
    c.run(f"{sys.executable} -m pytest", pty=False)
