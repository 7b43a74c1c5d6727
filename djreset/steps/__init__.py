"""The recipe steps.  Importing this package registers every step."""
from djreset.steps import commands, database, files, history, keep, safety  # noqa: F401
