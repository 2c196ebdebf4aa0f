"""An app for the migration tests, installed only by ``tests.shapes.settings``.

Its models depend on the ``SHAPES_STAGE`` environment variable, and its
migrations are written to a temporary package for each run: see ``harness``.
"""

#: The harness prints its JSON result on a line that starts with this.
MARKER = "SHAPES-RESULT:"
