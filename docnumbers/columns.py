"""Text columns that compare byte for byte on every backend.

PostgreSQL and SQLite compare text exactly by default. MariaDB compares with the
column's collation, usually case- and accent-insensitive (``utf8mb4_unicode_ci``):
there ``Order``, ``order`` and ``ordér`` would be one counter key, and
``INV-2026-0001`` and ``inv-2026-0001`` one document number. These columns ask for
the binary collation on MariaDB and MySQL, and for nothing elsewhere.
"""

from __future__ import annotations

from django.db import models

from . import backends


def exact_collation(connection) -> str | None:
    """The collation that compares byte for byte on ``connection`` (None: the default does)."""
    return backends.ops(connection).exact_collation()


class BinaryCollationMixin:
    """For a CharField: the column compares text byte for byte on every backend."""

    def db_parameters(self, connection):
        params = super().db_parameters(connection)
        collation = exact_collation(connection)
        if collation is not None and not getattr(self, "db_collation", None):
            params["collation"] = collation
        return params


class ExactCharField(BinaryCollationMixin, models.CharField):
    """A CharField whose values compare byte for byte (counter keys)."""
