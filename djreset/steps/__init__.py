"""The recipe steps: one small function each, registered by name.  No step module imports another.

Importing this package registers every step.
"""
from djreset.steps import backups, checks, commands, database, files, history, measure, retire, rewrite, verify  # noqa: F401
