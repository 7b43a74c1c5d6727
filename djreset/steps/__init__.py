"""The recipe steps.  Importing this package registers every step."""
from djreset.steps import checks, commands, database, files, history, rewrite, safety, verify  # noqa: F401
