"""This repository's tasks: every djreset task, plus the demo and the tests.

    invoke --list
    invoke demo          # reset a copy of examples/shop (SQLite)
    invoke test          # the test suite
"""
from invoke import Collection

from djreset.tasks import ns as djreset_tasks
from devtasks import demo, test

ns = Collection()
for name, t in djreset_tasks.tasks.items():
    ns.add_task(t, name=name)
ns.add_task(demo)
ns.add_task(test)
