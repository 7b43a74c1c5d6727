"""The recipe steps.  Importing this package registers every step."""
from djreset import measure  # noqa: F401  (the measure step lives with its helpers)
from djreset.steps import checks, commands, database, files, history, rewrite, safety, verify  # noqa: F401
