"""SQLite: the ON CONFLICT upsert (3.35+), and ``nowait`` through the busy timeout."""

from __future__ import annotations

import contextlib

from .base import OnConflictOperations


class SQLiteOperations(OnConflictOperations):
    """SQLite locks the whole database; ``nowait`` sets its busy timeout to 0."""

    @contextlib.contextmanager
    def no_wait(self, connection):
        connection.ensure_connection()
        # The raw connection: Django refuses queries in a transaction marked for rollback,
        # and the timeout must be restored even then.
        raw = connection.connection
        (previous,) = raw.execute("PRAGMA busy_timeout").fetchone()
        raw.execute("PRAGMA busy_timeout = 0")
        try:
            yield
        finally:
            raw.execute(f"PRAGMA busy_timeout = {int(previous)}")
