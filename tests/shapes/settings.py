"""The test settings plus the shapes app, its migrations in a temporary package.

``SHAPES_DIR`` is a directory put on ``sys.path`` that holds the (empty at first)
package ``SHAPES_MIGRATIONS``. The database is a fresh one of its own, named
after ``TEST_DB_NAME`` so that parallel runs on one server do not collide.
"""

import os
import sys

from tests.settings import *  # noqa: F403
from tests.settings import DATABASES

SHAPES_DIR = os.environ["SHAPES_DIR"]
if SHAPES_DIR not in sys.path:
    sys.path.insert(0, SHAPES_DIR)

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "docnumbers",
    "tests.shapes",
]
MIGRATION_MODULES = {"shapes": os.environ.get("SHAPES_MIGRATIONS", "shapes_migrations")}

_default = DATABASES["default"]
# Any SQLite backend (the test settings may use a subclass of Django's).
if "sqlite" in _default["ENGINE"]:
    _name = os.path.join(SHAPES_DIR, "shapes.sqlite3")
else:
    _name = (os.environ.get("TEST_DB_NAME") or "test_docnumbers") + "_shapes"
# The harness works on this database only: create_test_db makes it afresh.
_default["NAME"] = _name
_default.setdefault("TEST", {})["NAME"] = _name
DATABASES = {"default": _default}
