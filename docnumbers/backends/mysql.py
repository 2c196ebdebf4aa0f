"""MariaDB and MySQL: upserts with RETURNING (MariaDB 10.5+), guard rows, exact collations.

INSERT ... ON DUPLICATE KEY UPDATE takes a next-key lock (the row and the gap before it)
even when the row exists, and a gap lock makes the creation of a neighbouring key wait.
So an existing counter is moved by an UPDATE on the unique key (a record lock only),
and only a missing one is created, one transaction at a time per guard row: a row lock
InnoDB sees, so any cycle is reported at once as a deadlock instead of waiting out
innodb_lock_wait_timeout.

The UPDATE keeps the value it wrote in a user variable, which belongs to this connection
alone: reading the row back instead could see another caller's UPDATE once this one
committed on its own (autocommit), and hand out that value twice. (LAST_INSERT_ID(expr)
would do the same, but it is unsigned: a negative counter would overflow it.)
MySQL (no RETURNING) moves counters through the ORM.
"""

from __future__ import annotations

import hashlib

from .base import COUNTER_TABLE, NEW_VALUE, Operations

#: Guard rows (docnumbers' initial migrations create them): creating a key locks its bucket's row.
GUARD_BUCKETS = 1024
GUARD_TABLE = "docnumbers_creationguard"

#: The collations of exact columns (utf8mb4: any text fits). Binary, and NO PAD:
#: "order" and "order " stay two texts (a PAD SPACE collation ignores trailing spaces).
MARIADB_EXACT_COLLATION = "utf8mb4_nopad_bin"
MYSQL_EXACT_COLLATION = "utf8mb4_0900_bin"


class MySQLOperations(Operations):
    """MariaDB moves counters by UPDATE and creates them under guard rows (InnoDB)."""

    def __init__(self, connection):
        super().__init__(connection)
        features = connection.features
        self.upserts = bool(
            features.supports_update_conflicts and features.can_return_columns_from_insert
        )
        self.is_mariadb = bool(connection.mysql_is_mariadb)

    def counter_statement(self, purpose: str) -> str | None:
        if not self.upserts:
            return None
        qn = self.quote_name
        value = qn("value")
        return (
            f"{self._insert_counter()}ON DUPLICATE KEY UPDATE {value} = "
            f"{NEW_VALUE[purpose].format(v=value)} RETURNING {qn('id')}, {value}"
        )

    def _update(self, purpose: str) -> str:
        """Move an existing counter; parameters: the purpose's, then the key."""
        qn = self.quote_name
        value = qn("value")
        return (
            f"UPDATE {qn(COUNTER_TABLE)} SET {value} = (@docnumbers_value := "
            f"{NEW_VALUE[purpose].format(v=value)}) WHERE {qn('key')} = %s"
        )

    def take(self, cursor, purpose, key_text, step, params):
        """Move an existing counter by UPDATE (a record lock, no gap lock); create a missing
        one under its guard row, so that every wait is one InnoDB can see."""
        qn = self.quote_name
        cursor.execute(self._update(purpose), [*step, key_text])
        if cursor.rowcount == 0:
            digest = hashlib.sha1(key_text.encode("utf-8")).digest()
            cursor.execute(
                f"SELECT {qn('id')} FROM {qn(GUARD_TABLE)} WHERE {qn('id')} = %s FOR UPDATE",
                [int.from_bytes(digest[:4], "big") % GUARD_BUCKETS],
            )
            cursor.fetchall()
            cursor.execute(self.counter_statement(purpose), params)
            return cursor.fetchone()
        # The row's id (it never changes) and the value this UPDATE wrote.
        cursor.execute(
            f"SELECT {qn('id')}, @docnumbers_value FROM {qn(COUNTER_TABLE)} WHERE {qn('key')} = %s",
            [key_text],
        )
        return cursor.fetchone()

    def exact_collation(self) -> str | None:
        return MARIADB_EXACT_COLLATION if self.is_mariadb else MYSQL_EXACT_COLLATION
