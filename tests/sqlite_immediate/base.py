"""Django's SQLite backend, except that ``atomic()`` starts with BEGIN IMMEDIATE.

This is what ``OPTIONS["transaction_mode"] = "IMMEDIATE"`` does on Django 5.1+:
the write lock is taken at BEGIN, so a transaction that read first never fails
with "database is locked" when it starts to write; it waits (``timeout``) at BEGIN.
"""

from django.db.backends.sqlite3 import base


class DatabaseWrapper(base.DatabaseWrapper):
    def _start_transaction_under_autocommit(self):
        self.cursor().execute("BEGIN IMMEDIATE")
