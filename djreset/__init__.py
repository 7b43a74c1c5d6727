"""djreset: reset a Django project's migrations to one clean initial migration per app.

The layers, from the outside in:
config (reset.yaml → typed model) → recipe (ordered steps) → steps (small
functions) → engines (one class per database) → the Django bridge.
"""

__version__ = "0.1.0"
